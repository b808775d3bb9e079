"""Model files: where they live, which ones CrowdMocap can use, and fetching the freely licensed ones."""
