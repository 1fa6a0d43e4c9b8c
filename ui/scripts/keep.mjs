// Vite empties dist/ on every build; put back the committed placeholder file
// that lets `go build ./...` embed dist/ before the dashboard is built.
import { writeFileSync } from "node:fs";
writeFileSync(new URL("../dist/.gitkeep", import.meta.url), "");
