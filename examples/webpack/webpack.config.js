// Nothing for vae-webgpu here: webpack 5 turns the package's
// `new URL("vae_webgpu_bg.wasm", import.meta.url)` into an emitted asset on its own, and
// `new Worker(new URL("./worker.js", import.meta.url))` into a worker bundle. Two pages:
// index.html (train and draw on the page) and worker.html (train in a worker, draw on the page).
import { fileURLToPath } from "node:url";
import { copyFileSync, mkdirSync } from "node:fs";

const here = fileURLToPath(new URL(".", import.meta.url));
export default {
  mode: "production",
  entry: { main: "./main.js", "worker-page": "./worker-page.js" },
  output: { path: `${here}dist`, filename: "[name].js", clean: true },
  plugins: [{
    apply(compiler) {
      compiler.hooks.afterEmit.tap("copy-pages", () => {
        mkdirSync(`${here}dist`, { recursive: true });
        for (const page of ["index.html", "worker.html"]) copyFileSync(`${here}${page}`, `${here}dist/${page}`);
      });
    },
  }],
};
