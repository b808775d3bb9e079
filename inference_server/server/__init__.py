"""The HTTP server: uploads, a queue of capture jobs run by one worker, results, progress over SSE.

Nothing heavy is imported here, so ``crowdmocap-server --help`` stays fast without the server extra;
``app.create_app`` builds the FastAPI application and ``cli_serve`` adds the ``serve`` command.
"""
