"""Label images: objects found by thresholding, written as NGFF image-label groups."""
