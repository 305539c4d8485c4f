#!/usr/bin/env python3
"""Writes shaders/generated/linear_direct.wgsl and shaders/generated/linear_subgroup.wgsl, the generated forms of
the linear layer (kernels::linear compiles them after the hand-written shaders/linear.wgsl):
three kernels that each keep a 16×16 block of outputs in 64 vec4 registers, unrolled by hand
because neither CPU adapter's compiler unrolls a loop over an array of accumulators (measured:
2× slower). Run after changing the block shape: python3 scripts/gen-linear-direct.py
With --check it writes nothing and fails when a file differs from what it would write
(scripts/test.sh runs that)."""
import pathlib
import sys

R = 16  # rows per invocation
Q = 4   # column quads per invocation (16 columns)
SG = 8  # subgroup form: lanes whose loads are shared (needs subgroups of at least 8)
RS = 32  # subgroup form: rows per invocation (kernels::linear::SUBGROUP_ROWS). On lavapipe
# (2 cores) 16 → 32 made fc1's and fc5's forward 1.2–1.3× faster and the step ≈10%; 64 was a
# little faster again there but leaves fc1 with 4 workgroups, too few for more cores.

SG_NOTE = [
    f"// Subgroup form (adapters with subgroups of ≥ {SG} lanes, see linear_subgroup.wgsl's header): {RS}",
    f"// rows per invocation, loaded by lanes 0..{SG - 1}, {RS // SG} rows each, and broadcast, instead of by",
    "// every lane: the lanes of a subgroup share r0 (DIRECT_Y = 1). Same sums in the same order",
    "// as the direct kernel, so the same bits.",
]

SHADERS = pathlib.Path(__file__).resolve().parent.parent / "shaders" / "generated"


def zeros(prefix, n, m):
    return [f"  var {prefix}{i}_{j} = vec4<f32>(0.0);" for i in range(n) for j in range(m)]


def store_block(base, r0, rows, stride, q0, last_q, value, nrows=R):
    """Stores rows r0.. × quads q0.. (quads below last_q), four rows per store_rows call."""
    out = []
    for j in range(Q):
        out.append(f"  if ({q0} + {j}u < {last_q}) {{")
        for g in range(nrows // 4):
            vals = ", ".join(value(4 * g + k, j) for k in range(4))
            call = f"store_rows({base}, {r0} + {4 * g}u, {rows}, {stride}, {q0} + {j}u, {vals});"
            if g == 0:
                out.append(f"    {call}")
            else:
                out.append(f"    if ({r0} + {4 * g}u < {rows}) {{")
                out.append(f"      {call}")
                out.append("    }")
        out.append("  }")
    return out


def signature(name, sg):
    if not sg:
        return [f"fn {name}(@builtin(global_invocation_id) gid: vec3<u32>) {{"]
    return [f"fn {name}_subgroup(@builtin(global_invocation_id) gid: vec3<u32>,",
            "    @builtin(subgroup_invocation_id) lane: u32) {"]


def exit_if(cond):
    """The early exit of an invocation whose block is past the output."""
    return [f"  if ({cond}) {{", "    return;", "  }"]


def subgroup_exit(cond):
    """Subgroup form: a lane past the output still loads rows for its neighbours, so only a
    subgroup whose every lane is past it leaves before the loop (on llvmpipe a SIMD vector of
    dead lanes then costs nothing, as in the direct form); the others leave after it."""
    return [f"  let dead = {cond};", "  if (subgroupAll(dead)) {", "    return;", "  }"]


def shared_rows(prefix, base, stride, sg):
    """Subgroup form: lane l loads rows base+l, base+8+l, … of which lanes 0..7 are broadcast."""
    if not sg:
        return []
    return [f"  let {prefix}s{g} = min({base} + {SG * g}u + lane, lr) * {stride};" for g in range(RS // SG)]


def row_load(var, i, prefix, buf, k, sg):
    if not sg:
        return [f"    let {var}{i} = {buf}[{prefix}{i} + {k}];"]
    out = []
    if i % SG == 0:
        out.append(f"    let {var}s{i // SG} = {buf}[{prefix}s{i // SG} + {k}];")
    out.append(f"    let {var}{i} = subgroupBroadcast({var}s{i // SG}, {i % SG}u);")
    return out


def forward(sg=False):
    rr = RS if sg else R
    exit_ = exit_if("q0 >= qo || r0 >= p.rows")
    sg_exit = subgroup_exit("q0 >= qo || r0 >= p.rows")
    L = [
        f"// y (B, OUT) = act(x (B, IN) · Wᵀ + b). Invocation: rows r0..r0+{rr - 1} × output column quads",
        "// q0..q0+3, dot products of vec4s along IN (v * M: four W rows at once). Rows past B and",
        "// W rows past OUT are clamped to valid ones; their results are never stored.",
    ] + SG_NOTE * sg + [
        "@compute @workgroup_size(DIRECT_X, DIRECT_Y, 1)",
    ] + signature("linear_forward", sg) + [
        f"  let q0 = gid.x * {Q}u;",
        f"  let r0 = gid.y * {rr}u;",
        "  let qo = quads(p.out_features);",
    ] + (sg_exit if sg else exit_) + [
        "  let qi = quads(p.in_features);",
        "  let lr = p.rows - 1u;",
        "  let lo = p.out_features - 1u;",
        "  let wb = p.weight_offset / 4u;",
    ]
    L += shared_rows("x", "r0", "qi", sg) if sg else [f"  let x{i} = min(r0 + {i}u, lr) * qi;" for i in range(R)]
    L += [f"  let w{n} = wb + min(q0 * 4u + {n}u, lo) * qi;" for n in range(4 * Q)]
    L += zeros("a", rr, Q)
    L += ["  for (var k = 0u; k < qi; k++) {"]
    L += [f"    let m{j} = mat4x4<f32>(b[w{4*j} + k], b[w{4*j+1} + k], b[w{4*j+2} + k], b[w{4*j+3} + k]);" for j in range(Q)]
    for i in range(rr):
        L += row_load("v", i, "x", "a", "k", sg)
        L += [f"    a{i}_{j} += v{i} * m{j};" for j in range(Q)]
    L += ["  }"]
    L += ["  if (dead) {", "    return;", "  }"] * sg
    L += store_block("0u", "r0", "p.rows", "qo", "q0", "qo",
                     lambda i, j: f"forward_epilogue(a{i}_{j}, (q0 + {j}u) * 4u)", rr)
    L += ["}"]
    return L


def backward_input(sg=False):
    rr = RS if sg else R
    exit_ = exit_if("q0 >= qi || r0 >= p.rows")
    sg_exit = subgroup_exit("q0 >= qi || r0 >= p.rows")
    L = [
        "// dx (B, IN) = dy (B, OUT) · W (OUT, IN), times (x > 0) with FLAG_RELU_MASK. Invocation:",
        f"// rows r0..r0+{rr - 1} × input column quads q0..q0+3, outer products over OUT (M * v: four W",
        "// rows, four OUT columns per step). W rows past OUT are clamped (the matching dy columns",
        "// are padding, hence zero); quads past IN are clamped and never stored.",
    ] + SG_NOTE * sg + [
        "@compute @workgroup_size(DIRECT_X, DIRECT_Y, 1)",
    ] + signature("linear_backward_input", sg) + [
        f"  let q0 = gid.x * {Q}u;",
        f"  let r0 = gid.y * {rr}u;",
        "  let qi = quads(p.in_features);",
    ] + (sg_exit if sg else exit_) + [
        "  let qo = quads(p.out_features);",
        "  let lr = p.rows - 1u;",
        "  let lo = p.out_features - 1u;",
        "  let wb = p.weight_offset / 4u;",
    ]
    L += shared_rows("y", "r0", "qo", sg) if sg else [f"  let y{i} = min(r0 + {i}u, lr) * qo;" for i in range(R)]
    L += [f"  let c{j} = wb + min(q0 + {j}u, qi - 1u);" for j in range(Q)]
    L += zeros("a", rr, Q)
    L += ["  for (var k = 0u; k < qo; k++) {", "    let n = k * 4u;"]
    L += [f"    let o{t} = min(n + {t}u, lo) * qi;" for t in range(4)]
    L += [f"    let m{j} = mat4x4<f32>(b[c{j} + o0], b[c{j} + o1], b[c{j} + o2], b[c{j} + o3]);" for j in range(Q)]
    for i in range(rr):
        L += row_load("d", i, "y", "a", "k", sg)
        L += [f"    a{i}_{j} += m{j} * d{i};" for j in range(Q)]
    L += ["  }"]
    L += ["  if (dead) {", "    return;", "  }"] * sg
    L += store_block("0u", "r0", "p.rows", "qi", "q0", "qi",
                     lambda i, j: f"input_epilogue(a{i}_{j}, min(r0 + {i}u, lr), q0 + {j}u)", rr)
    L += ["}"]
    return L


def backward_weight(sg=False):
    rr = RS if sg else R
    exit_ = exit_if("q0 >= qi || n0 >= p.out_features")
    sg_exit = subgroup_exit("q0 >= qi || n0 >= p.out_features")
    L = [
        "// dW (OUT, IN) = dyᵀ (OUT, B) · x (B, IN), written into the flat gradient buffer at",
        "// weight_offset, and db = Σ_B dy at bias_offset (in the same pass, as",
        f"// the tiled form does). Invocation: W rows n0..n0+{rr - 1} × column quads q0..q0+3, outer",
        "// products over B. dy and x quads past OUT and IN are clamped; their results are never",
        "// stored.",
    ]
    if sg:
        L += [
            f"// Subgroup form: for each B row m, lanes 0..{SG - 1} load the {rr} dy values of the block",
            f"// ({rr // 4 // SG} vec4 each) and broadcast them, instead of every lane loading all {rr}.",
            "// Same sums in the same order as the direct kernel, so the same bits.",
        ]
    L += [
        "@compute @workgroup_size(DIRECT_X, DIRECT_Y, 1)",
    ] + signature("linear_backward_weight", sg) + [
        f"  let q0 = gid.x * {Q}u;",
        f"  let n0 = gid.y * {rr}u;",
        "  let qi = quads(p.in_features);",
    ] + (sg_exit if sg else exit_) + [
        "  let qo = quads(p.out_features);",
    ]
    if sg:
        L += [f"  let e{u} = min(n0 / 4u + {SG * u}u + lane, qo - 1u);" for u in range(rr // 4 // SG)]
    else:
        L += [f"  let e{t} = min(n0 / 4u + {t}u, qo - 1u);" for t in range(rr // 4)]
    L += [f"  let c{j} = min(q0 + {j}u, qi - 1u);" for j in range(Q)]
    L += zeros("a", rr, Q)
    L += [f"  var bias{t} = vec4<f32>(0.0);" for t in range(rr // 4)]
    L += ["  for (var m = 0u; m < p.rows; m++) {"]
    if sg:
        L += [f"    let g{u} = a[m * qo + e{u}];" for u in range(rr // 4 // SG)]
        L += [f"    let d{t} = subgroupBroadcast(g{t // SG}, {t % SG}u);" for t in range(rr // 4)]
    else:
        L += [f"    let d{t} = a[m * qo + e{t}];" for t in range(rr // 4)]
    L += [f"    let x{j} = b[m * qi + c{j}];" for j in range(Q)]
    L += [f"    bias{t} += d{t};" for t in range(rr // 4)]
    comp = "xyzw"
    for i in range(rr):
        L += [f"    a{i}_{j} += d{i // 4}.{comp[i % 4]} * x{j};" for j in range(Q)]
    L += ["  }"]
    L += ["  if (dead) {", "    return;", "  }"] * sg
    L += ["  let wb = p.weight_offset / 4u;"]
    L += store_block("wb", "n0", "p.out_features", "qi", "q0", "qi", lambda i, j: f"a{i}_{j}", rr)
    L += ["  if (q0 == 0u) {"]
    L += [f"    store_bias4(n0 + {4 * t}u, bias{t});" for t in range(rr // 4)]
    L += ["  }", "}"]
    return L


HEADER = [
    "// Generated by scripts/gen-linear-direct.py; edit that, not this. Compiled after linear.wgsl",
    "// (its bindings, LinearParams and helpers); see kernels::linear.",
]
files = {
    "linear_direct.wgsl": HEADER + [
        "//",
        f"// The direct form: each invocation keeps a {R}×{4 * Q} block of outputs in registers.",
        "",
    ] + forward() + [""] + backward_input() + [""] + backward_weight(),
    "linear_subgroup.wgsl": HEADER + [
        "//",
        "// The direct kernels with shared loads through subgroupBroadcast. Compiled only for devices",
        "// with the subgroups feature (naga rejects the builtins elsewhere) and used only where every",
        f"// subgroup has at least {SG} lanes (lavapipe: 8).",
        "",
    ] + forward(True) + [""] + backward_input(True) + [""] + backward_weight(True),
}
stale = []
for name, lines in files.items():
    path = SHADERS / name
    text = "\n".join(lines) + "\n"
    if "--check" in sys.argv[1:]:
        if not path.exists() or path.read_text() != text:
            stale.append(name)
    else:
        path.write_text(text)
        print(f"{path}: written")
if stale:
    raise SystemExit(f"shaders/generated/{', '.join(stale)} differ from scripts/gen-linear-direct.py's output; run it")
if "--check" in sys.argv[1:]:
    print("shaders/generated/linear_direct.wgsl and linear_subgroup.wgsl match scripts/gen-linear-direct.py")
