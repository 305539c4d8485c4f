// The package by name, as an app imports it; ../demo.js trains and draws with it.
import * as vae from "vae-webgpu";
import { demo } from "../demo.js";

demo(vae);
