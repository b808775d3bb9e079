"""How the camera moved between frames (pan, tilt, roll, zoom), from the footage's background."""
