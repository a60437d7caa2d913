// Validates instances against JSON schemas with ajv (draft 2020-12, formats from ajv-formats).
// stdin: JSON array of {"schema": {...}, "instance": <value>}; stdout: JSON array of error strings ("" when valid).
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
}));

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const compiled = new Map();
const results = input.map(({ schema, instance }) => {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    // Draft-7 "definitions" still resolve: ajv keeps unknown keywords addressable by JSON pointer.
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate(instance) ? "" : ajv.errorsText(validate.errors);
});
process.stdout.write(JSON.stringify(results));
