"""2D poses per frame: backends that find every person and their COCO-17 keypoints, and importers."""
