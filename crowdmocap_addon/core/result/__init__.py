"""The result file: the contract between the inference server and the add-on.

``schema`` holds the format's constants, typed containers and checks; ``writer`` is the one place a
result file is written (the server, and tests building fixtures) and ``reader`` the one place it is read.
"""
