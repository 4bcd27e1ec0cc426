"""Reading microscope images: format detection and metadata."""
