/// The OpenAPI 3.1 document of the API, served at `/openapi.json`; `docs/openapi.json` is the same text (a test
/// checks it).
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "ReelForge API",
        "version": "1.0.0",
        "description": "Create narrated, subtitled short videos, follow them through script, adapt, audio and video, download them, and work the dead letters. See docs/api.md."
      },
      "servers": [
        {
          "url": "/"
        }
      ],
      "security": [
        {
          "bearer": []
        }
      ],
      "paths": {
        "/healthz": {
          "get": {
            "operationId": "health",
            "security": [],
            "responses": {
              "200": {
                "description": "The process serves",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "properties": {
                        "status": {
                          "type": "string"
                        }
                      },
                      "required": [
                        "status"
                      ]
                    }
                  }
                }
              }
            }
          }
        },
        "/readyz": {
          "get": {
            "operationId": "ready",
            "security": [],
            "responses": {
              "200": {
                "description": "Store and queue answer",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "properties": {
                        "status": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              },
              "503": {
                "description": "Store or queue do not answer",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "properties": {
                        "status": {
                          "type": "string"
                        },
                        "reason": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        },
        "/openapi.json": {
          "get": {
            "operationId": "openapi",
            "security": [],
            "responses": {
              "200": {
                "description": "This document",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object"
                    }
                  }
                }
              }
            }
          }
        },
        "/v1/videos": {
          "post": {
            "operationId": "createVideo",
            "summary": "Create a video",
            "parameters": [
              {
                "name": "Idempotency-Key",
                "in": "header",
                "required": false,
                "schema": {
                  "type": "string",
                  "minLength": 1,
                  "maxLength": 200,
                  "pattern": "^[!-~]+$"
                }
              }
            ],
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/NewVideo"
                  }
                }
              }
            },
            "responses": {
              "201": {
                "description": "Created",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/VideoDetail"
                    }
                  }
                }
              },
              "200": {
                "description": "The video of this Idempotency-Key",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/VideoDetail"
                    }
                  }
                }
              },
              "409": {
                "$ref": "#/components/responses/Error"
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          },
          "get": {
            "operationId": "listVideos",
            "summary": "List videos, newest first",
            "parameters": [
              {
                "name": "status",
                "in": "query",
                "schema": {
                  "type": "string",
                  "enum": [
                    "queued",
                    "processing",
                    "completed",
                    "failed",
                    "cancelled"
                  ]
                }
              },
              {
                "name": "stage",
                "in": "query",
                "schema": {
                  "type": "string",
                  "enum": [
                    "script",
                    "adapt",
                    "audio",
                    "video"
                  ]
                }
              },
              {
                "name": "q",
                "in": "query",
                "schema": {
                  "type": "string",
                  "maxLength": 200
                }
              },
              {
                "name": "limit",
                "in": "query",
                "schema": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 200
                }
              },
              {
                "name": "cursor",
                "in": "query",
                "schema": {
                  "type": "string",
                  "maxLength": 200
                }
              }
            ],
            "responses": {
              "200": {
                "description": "A page",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/VideoList"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/videos/batch": {
          "post": {
            "operationId": "createVideos",
            "summary": "Create up to 1000 videos from JSON Lines or CSV",
            "requestBody": {
              "required": true,
              "content": {
                "application/x-ndjson": {
                  "schema": {
                    "type": "string"
                  }
                },
                "text/csv": {
                  "schema": {
                    "type": "string"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "Each line created or refused",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/BatchResult"
                    }
                  }
                }
              },
              "415": {
                "$ref": "#/components/responses/Error"
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/videos/{id}": {
          "get": {
            "operationId": "getVideo",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string",
                  "pattern": "^[A-Za-z0-9_-]{1,64}$"
                }
              }
            ],
            "responses": {
              "200": {
                "description": "The video",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/VideoDetail"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/videos/{id}/files/{name}": {
          "get": {
            "operationId": "getVideoFile",
            "summary": "A stored file, with HTTP range requests",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string",
                  "pattern": "^[A-Za-z0-9_-]{1,64}$"
                }
              },
              {
                "name": "name",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string",
                  "maxLength": 120
                }
              },
              {
                "name": "Range",
                "in": "header",
                "schema": {
                  "type": "string"
                }
              }
            ],
            "responses": {
              "200": {
                "description": "The whole file",
                "content": {
                  "application/octet-stream": {
                    "schema": {
                      "type": "string",
                      "format": "binary"
                    }
                  }
                }
              },
              "206": {
                "description": "Part of the file",
                "content": {
                  "application/octet-stream": {
                    "schema": {
                      "type": "string",
                      "format": "binary"
                    }
                  }
                }
              },
              "416": {
                "$ref": "#/components/responses/Error"
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/videos/{id}/events": {
          "get": {
            "operationId": "videoEvents",
            "summary": "Server-Sent Events: the video on every change",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string",
                  "pattern": "^[A-Za-z0-9_-]{1,64}$"
                }
              }
            ],
            "responses": {
              "200": {
                "description": "An event stream: each event is `video`, its data the VIDEO as JSON",
                "content": {
                  "text/event-stream": {
                    "schema": {
                      "type": "object",
                      "required": [
                        "data"
                      ],
                      "properties": {
                        "event": {
                          "type": "string",
                          "enum": [
                            "video"
                          ]
                        },
                        "data": {
                          "type": "string",
                          "contentMediaType": "application/json"
                        },
                        "id": {
                          "type": "string"
                        },
                        "retry": {
                          "type": "integer"
                        }
                      }
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/videos/{id}/cancel": {
          "post": {
            "operationId": "cancelVideo",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string",
                  "pattern": "^[A-Za-z0-9_-]{1,64}$"
                }
              }
            ],
            "responses": {
              "202": {
                "description": "Cancelled",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/VideoDetail"
                    }
                  }
                }
              },
              "409": {
                "$ref": "#/components/responses/Error"
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/videos/{id}/retry": {
          "post": {
            "operationId": "retryVideo",
            "parameters": [
              {
                "name": "id",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string",
                  "pattern": "^[A-Za-z0-9_-]{1,64}$"
                }
              }
            ],
            "requestBody": {
              "required": false,
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                      "from": {
                        "type": "string",
                        "enum": [
                          "script",
                          "adapt",
                          "audio",
                          "video"
                        ]
                      }
                    }
                  }
                }
              }
            },
            "responses": {
              "202": {
                "description": "Sent again",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/VideoDetail"
                    }
                  }
                }
              },
              "409": {
                "$ref": "#/components/responses/Error"
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/dead-letters": {
          "get": {
            "operationId": "deadLetters",
            "responses": {
              "200": {
                "description": "Groups",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/DeadLetterGroups"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/dead-letters/replay": {
          "post": {
            "operationId": "replayDeadLetters",
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/ReplayRequest"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "Replayed",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "properties": {
                        "replayed": {
                          "type": "array",
                          "items": {
                            "type": "string"
                          }
                        }
                      },
                      "required": [
                        "replayed"
                      ]
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/dead-letters/purge": {
          "post": {
            "operationId": "purgeDeadLetters",
            "requestBody": {
              "required": true,
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/PurgeRequest"
                  }
                }
              }
            },
            "responses": {
              "200": {
                "description": "Purged",
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object",
                      "properties": {
                        "purged": {
                          "type": "integer"
                        }
                      },
                      "required": [
                        "purged"
                      ]
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        },
        "/v1/pipeline": {
          "get": {
            "operationId": "pipeline",
            "responses": {
              "200": {
                "description": "Queues and videos",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Pipeline"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Error"
              },
              "401": {
                "$ref": "#/components/responses/Error"
              },
              "403": {
                "$ref": "#/components/responses/Error"
              },
              "404": {
                "$ref": "#/components/responses/Error"
              },
              "413": {
                "$ref": "#/components/responses/Error"
              }
            }
          }
        }
      },
      "components": {
        "securitySchemes": {
          "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A token of REELFORGE_API_TOKENS_FILE: viewer reads, operator also writes."
          }
        },
        "responses": {
          "Error": {
            "description": "An error",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        },
        "schemas": {
          "Error": {
            "type": "object",
            "required": [
              "error"
            ],
            "properties": {
              "error": {
                "type": "object",
                "required": [
                  "code",
                  "message"
                ],
                "properties": {
                  "code": {
                    "type": "string"
                  },
                  "message": {
                    "type": "string"
                  }
                }
              }
            }
          },
          "NewVideo": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "idea"
            ],
            "properties": {
              "idea": {
                "type": "string",
                "minLength": 1,
                "maxLength": 2000
              },
              "language": {
                "type": "string",
                "enum": [
                  "en",
                  "fr"
                ]
              },
              "duration_seconds": {
                "type": "integer",
                "minimum": 5,
                "maximum": 600
              },
              "background": {
                "type": "string",
                "maxLength": 512
              },
              "footage": {
                "type": "string",
                "pattern": "^ *(pexels|pixabay|library|generated) *(, *(pexels|pixabay|library|generated) *)*$"
              },
              "format": {
                "type": "string",
                "enum": [
                  "9:16",
                  "1:1",
                  "16:9"
                ]
              },
              "style": {
                "type": "string",
                "enum": [
                  "classic",
                  "shorts"
                ]
              },
              "callback_url": {
                "type": "string",
                "format": "uri",
                "maxLength": 2048
              },
              "priority": {
                "type": "string",
                "enum": [
                  "high",
                  "normal",
                  "bulk"
                ],
                "description": "Class of service: each stage takes high first; bulk suits large batches."
              }
            }
          },
          "File": {
            "type": "object",
            "required": [
              "size",
              "url"
            ],
            "properties": {
              "size": {
                "type": "integer"
              },
              "content_type": {
                "type": "string"
              },
              "url": {
                "type": "string"
              }
            }
          },
          "Video": {
            "type": "object",
            "required": [
              "id",
              "idea",
              "status",
              "progress",
              "created_at",
              "updated_at"
            ],
            "properties": {
              "id": {
                "type": "string"
              },
              "job_id": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "idea": {
                "type": "string"
              },
              "language": {
                "type": "string",
                "enum": [
                  "en",
                  "fr"
                ]
              },
              "duration_seconds": {
                "type": "integer"
              },
              "background": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "footage": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "format": {
                "type": [
                  "string",
                  "null"
                ],
                "enum": [
                  "9:16",
                  "1:1",
                  "16:9",
                  null
                ]
              },
              "style": {
                "type": [
                  "string",
                  "null"
                ],
                "enum": [
                  "classic",
                  "shorts",
                  null
                ]
              },
              "callback_url": {
                "type": [
                  "string",
                  "null"
                ]
              },
              "status": {
                "type": "string",
                "enum": [
                  "queued",
                  "processing",
                  "completed",
                  "failed",
                  "cancelled"
                ]
              },
              "checkpoint": {
                "type": [
                  "string",
                  "null"
                ],
                "enum": [
                  "script_generated",
                  "script_adapted",
                  "audio_generated",
                  "video_generated",
                  null
                ]
              },
              "stage": {
                "type": [
                  "string",
                  "null"
                ],
                "enum": [
                  "script",
                  "adapt",
                  "audio",
                  "video",
                  null
                ]
              },
              "progress": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100
              },
              "attempts": {
                "type": "object",
                "additionalProperties": {
                  "type": "integer"
                }
              },
              "cost_usd": {
                "type": "number"
              },
              "files": {
                "type": "object",
                "additionalProperties": {
                  "$ref": "#/components/schemas/File"
                }
              },
              "created_at": {
                "type": "string",
                "format": "date-time"
              },
              "updated_at": {
                "type": "string",
                "format": "date-time"
              }
            }
          },
          "VideoDetail": {
            "allOf": [
              {
                "$ref": "#/components/schemas/Video"
              },
              {
                "type": "object",
                "required": [
                  "timeline",
                  "errors",
                  "costs"
                ],
                "properties": {
                  "timeline": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": [
                        "stage",
                        "attempt",
                        "outcome"
                      ],
                      "properties": {
                        "stage": {
                          "type": "string",
                          "enum": [
                            "script",
                            "adapt",
                            "audio",
                            "video"
                          ]
                        },
                        "attempt": {
                          "type": "integer"
                        },
                        "outcome": {
                          "type": "string"
                        },
                        "at": {
                          "type": [
                            "string",
                            "null"
                          ]
                        },
                        "message": {
                          "type": "string"
                        },
                        "worker": {
                          "type": "string"
                        },
                        "seconds": {
                          "type": "number"
                        },
                        "started_at": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "errors": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": [
                        "stage",
                        "kind",
                        "message",
                        "attempt",
                        "at"
                      ],
                      "properties": {
                        "stage": {
                          "type": "string"
                        },
                        "kind": {
                          "type": "string"
                        },
                        "message": {
                          "type": "string"
                        },
                        "attempt": {
                          "type": "integer"
                        },
                        "at": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "costs": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": [
                        "stage",
                        "provider",
                        "usd"
                      ],
                      "properties": {
                        "stage": {
                          "type": "string"
                        },
                        "provider": {
                          "type": "string"
                        },
                        "units": {
                          "type": "number"
                        },
                        "unit": {
                          "type": "string"
                        },
                        "usd": {
                          "type": "number"
                        },
                        "attempt": {
                          "type": "integer"
                        },
                        "calls": {
                          "type": "integer"
                        },
                        "at": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "retry_from": {
                    "type": "string"
                  },
                  "resume_saved_usd": {
                    "type": "number",
                    "description": "what resuming at the failed stage saved: the earlier stages' costs, once per failure"
                  }
                }
              }
            ]
          },
          "VideoList": {
            "type": "object",
            "required": [
              "videos",
              "next_cursor"
            ],
            "properties": {
              "videos": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/Video"
                }
              },
              "next_cursor": {
                "type": [
                  "string",
                  "null"
                ]
              }
            }
          },
          "BatchResult": {
            "type": "object",
            "required": [
              "created",
              "errors"
            ],
            "properties": {
              "created": {
                "type": "array",
                "items": {
                  "type": "object",
                  "required": [
                    "line",
                    "id"
                  ],
                  "properties": {
                    "line": {
                      "type": "integer"
                    },
                    "id": {
                      "type": "string"
                    }
                  }
                }
              },
              "errors": {
                "type": "array",
                "items": {
                  "type": "object",
                  "required": [
                    "line",
                    "error"
                  ],
                  "properties": {
                    "line": {
                      "type": "integer"
                    },
                    "error": {
                      "type": "string"
                    }
                  }
                }
              }
            }
          },
          "DeadLetterGroups": {
            "type": "object",
            "required": [
              "groups"
            ],
            "properties": {
              "groups": {
                "type": "array",
                "items": {
                  "type": "object",
                  "required": [
                    "group",
                    "stage",
                    "kind",
                    "cause",
                    "count",
                    "job_ids"
                  ],
                  "properties": {
                    "group": {
                      "type": "string"
                    },
                    "stage": {
                      "type": "string",
                      "enum": [
                        "script",
                        "adapt",
                        "audio",
                        "video"
                      ]
                    },
                    "kind": {
                      "type": "string"
                    },
                    "cause": {
                      "type": "string"
                    },
                    "count": {
                      "type": "integer"
                    },
                    "first_seen": {
                      "type": [
                        "string",
                        "null"
                      ]
                    },
                    "last_seen": {
                      "type": [
                        "string",
                        "null"
                      ]
                    },
                    "job_ids": {
                      "type": "array",
                      "items": {
                        "type": "string"
                      }
                    }
                  }
                }
              }
            }
          },
          "Edits": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
              "background": {
                "type": "string",
                "maxLength": 512
              },
              "footage": {
                "type": "string"
              },
              "format": {
                "type": "string",
                "enum": [
                  "9:16",
                  "1:1",
                  "16:9"
                ]
              },
              "style": {
                "type": "string",
                "enum": [
                  "classic",
                  "shorts"
                ]
              }
            }
          },
          "ReplayRequest": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
              "job_ids": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1000,
                "items": {
                  "type": "string",
                  "pattern": "^[A-Za-z0-9_-]{1,64}$"
                }
              },
              "group": {
                "type": "string",
                "maxLength": 64
              },
              "edits": {
                "$ref": "#/components/schemas/Edits"
              }
            }
          },
          "PurgeRequest": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
              "job_ids": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1000,
                "items": {
                  "type": "string",
                  "pattern": "^[A-Za-z0-9_-]{1,64}$"
                }
              },
              "group": {
                "type": "string",
                "maxLength": 64
              }
            }
          },
          "Pipeline": {
            "type": "object",
            "required": [
              "queues",
              "videos",
              "stages"
            ],
            "properties": {
              "queues": {
                "type": "object",
                "additionalProperties": {
                  "type": "integer"
                }
              },
              "videos": {
                "type": "object",
                "additionalProperties": {
                  "type": "integer"
                }
              },
              "stages": {
                "type": "object",
                "additionalProperties": {
                  "type": "object",
                  "properties": {
                    "waiting": {
                      "type": "integer"
                    },
                    "running": {
                      "type": "integer"
                    },
                    "done": {
                      "type": "integer"
                    },
                    "runs": {
                      "type": "integer"
                    },
                    "mean_seconds": {
                      "type": [
                        "number",
                        "null"
                      ]
                    }
                  }
                }
              },
              "completed_last_hour": {
                "type": "integer"
              },
              "sampled": {
                "type": "integer"
              }
            }
          }
        }
      }
    }
    """#
}
