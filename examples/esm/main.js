// The package by name (the import map in index.html says where it is).
import * as vae from "vae-webgpu";
import { demo } from "../demo.js";

demo(vae);
