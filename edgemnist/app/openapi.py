"""The OpenAPI description of the JSON API, served at ``/api/openapi.json``."""

from __future__ import annotations

from ..common.versions import EDGEMNIST_VERSION as __version__

ERROR = {
    "description": "a client error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}

OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "edgemnist digit classifier",
        "version": __version__,
        "description": "Draw or photograph a digit; the served MNIST models read it. Models are chosen by name "
        "from GET /api/models. Any request that does not arrive whole within the server's `--body-timeout` is "
        "answered 408 (JSON) and its connection closed; past `--max-connections` open connections, a request is "
        "answered 503 (plain text `Service Unavailable`).",
    },
    "paths": {
        "/api/models": {
            "get": {
                "summary": "The served models, their input contracts, the model the page runs in the browser, and "
                "whether the server collects corrected digits (`collect`)",
                "responses": {"200": {"description": "the served models", "content": {"application/json": {}}}},
            }
        },
        "/api/predict": {
            "post": {
                "summary": "Classify one digit",
                "description": "An image (any format Pillow reads, made into an MNIST digit the way `edgemnist "
                "predict` "
                "does; the answer includes that 28×28 `digit`), or a 28×28 digit as JSON, used as it is. An image "
                "without ink (or an all-zero digit) answers `blank: true` and the message 'nothing drawn'.",
                "parameters": [
                    {
                        "name": "model",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "a name from GET /api/models (default: the first served model)",
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {"image": {"type": "string", "format": "binary"}},
                            }
                        },
                        "image/*": {"schema": {"type": "string", "format": "binary"}},
                        "application/json": {"schema": {"$ref": "#/components/schemas/Digit"}},
                    },
                },
                "responses": {
                    "200": {
                        "description": "the prediction",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Prediction"}}},
                    },
                    "400": ERROR,
                    "404": ERROR,
                    "413": ERROR,
                    "415": ERROR,
                },
            }
        },
        "/api/collect": {
            "post": {
                "summary": "Save a corrected digit (only on a server started with `edgemnist serve --collect DIR`)",
                "description": "The upload given to /api/predict and the digit it really is. The server makes the "
                "28×28 digit from the upload by the same preprocessing as /api/predict (a client's digit array is "
                "never taken) and writes it as `DIR/<label>/<stem>.png`, and the upload as "
                "`DIR/.originals/<label>/<stem>.<format>`; the server chooses the names. GET /api/models says "
                "`collect: true` when this route is on. Limits: the upload's size (413), saves per minute per client "
                "address (429, with Retry-After), and the folder's total size (507, nothing written).",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["image", "label"],
                                "properties": {
                                    "image": {"type": "string", "format": "binary"},
                                    "label": {"type": "string", "pattern": "^[0-9]$"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "saved",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Saved"}}},
                    },
                    "400": ERROR,
                    "404": {**ERROR, "description": "this server does not collect"},
                    "413": ERROR,
                    "415": ERROR,
                    "422": {**ERROR, "description": "a blank image (no ink): nothing saved"},
                    "429": {**ERROR, "description": "too many saves from this address: see Retry-After"},
                    "507": {**ERROR, "description": "the folder is full: nothing saved"},
                    "500": {**ERROR, "description": "the server could not write: nothing saved"},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Digit": {
                "type": "object",
                "required": ["digit"],
                "properties": {
                    "digit": {
                        "type": "array",
                        "minItems": 28,
                        "maxItems": 28,
                        "items": {
                            "type": "array",
                            "minItems": 28,
                            "maxItems": 28,
                            "items": {"type": "integer", "minimum": 0, "maximum": 255},
                        },
                    }
                },
            },
            "Prediction": {
                "type": "object",
                "properties": {
                    "model": {"type": "string"},
                    "backend": {"type": "string"},
                    "blank": {"type": "boolean"},
                    "label": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                    "probabilities": {"type": "array", "items": {"type": "number"}},
                    "top": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"label": {"type": "string"}, "probability": {"type": "number"}},
                        },
                    },
                    "inference_us": {"type": "number", "description": "the predictor call alone"},
                    "server_us": {
                        "type": "number",
                        "description": "the request in the server, body read to answer made",
                    },
                    "digit": {"$ref": "#/components/schemas/Digit/properties/digit"},
                },
            },
            "Saved": {
                "type": "object",
                "properties": {
                    "saved": {"type": "boolean"},
                    "label": {"type": "string"},
                    "file": {"type": "string", "description": "the 28×28 digit, relative to DIR"},
                    "original": {"type": "string", "description": "the upload, relative to DIR"},
                },
            },
            "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
        }
    },
}
