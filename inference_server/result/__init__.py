"""Writing the result file (the contract with the add-on) and exporting it to other formats."""
