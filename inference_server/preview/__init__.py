"""What the user sees of the 2D stage: skeletons, boxes and track ids drawn on the footage."""
