"""bioimage.io models: open packages safely, describe, test and run them offline."""
