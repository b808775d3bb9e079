"""The result file: the contract between the inference server (writer) and the add-on (reader).

``schema`` holds the format's constants, typed containers and checks, shared by both sides; the server
writes with ``inference_server.result.writer`` and the add-on reads with ``result.reader``, nowhere else.
"""
