"""OME-NGFF concepts shared by readers, writers and validators."""
