package httpapi

import _ "embed"

// openAPI is the OpenAPI 3.1 document of the API, served at
// /api/v1/openapi.json.
//
//go:embed openapi.json
var openAPI []byte
