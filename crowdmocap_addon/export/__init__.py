"""Export captured (or retargeted) people for game engines and mocap tools: FBX, glTF binary, BVH."""
