"""Many clips at once on Ray: every clip captured as its own task, results and a manifest in one folder."""
