"""One temporal fit per person: the whole motion solved at once against all the evidence (torch)."""
