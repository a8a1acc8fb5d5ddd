"""The digit-classifier app behind ``edgemnist serve``: a Starlette server (``server.py``) over the
predictors, and a plain HTML/JS page (``static/``) that draws, uploads, shows what the model saw and runs
the same ONNX model in the browser with onnxruntime-web.

Nothing here is imported by ``import edgemnist`` or ``edgemnist --help``: starlette and uvicorn come with
the ``[app]`` extra.
"""
