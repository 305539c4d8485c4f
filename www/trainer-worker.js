// The page's trainer (a module Worker that app.js starts with the page's query string): loads
// the build of the wasm module for this browser here (boot.js: threads, relaxed SIMD or
// SIMD128; the threads build's CPU workers start from here), then serves trainers over
// messages (host.js). The page's thread only draws and listens.
import { loadModule } from "./boot.js";
import { serve } from "./host.js";

serve(loadModule);
