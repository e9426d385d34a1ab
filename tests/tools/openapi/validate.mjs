// Usage: node validate.mjs <openapi.json>. Exit 0 and one line when the document is valid
// OpenAPI (schema and semantic checks of @apidevtools/swagger-parser), 1 and the reasons if not.
import SwaggerParser from "@apidevtools/swagger-parser";

const file = process.argv[2];
try {
  const api = await SwaggerParser.validate(file);
  console.log(`valid OpenAPI ${api.openapi}: ${Object.keys(api.paths).length} paths`);
} catch (error) {
  console.error(`invalid OpenAPI document ${file}: ${error.message}`);
  process.exit(1);
}
