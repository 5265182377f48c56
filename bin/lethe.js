#!/usr/bin/env node
// The bundled CLI (scripts/bundle-cli.mjs): one file instead of ~600 modules at start-up.
import "../dist/bundle/lethe.js";
