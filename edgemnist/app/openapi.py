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
        "from GET /api/models.",
    },
    "paths": {
        "/api/models": {
            "get": {
                "summary": "The served models, their input contracts, and the model the page runs in the browser",
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
            "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
        }
    },
}
