"""Copts for code that runs inside cells and so must stay fully static.

ASan cannot be linked statically, so under --config=asan the probe, the
test helpers run inside cells and what they link are built without
sanitizers (their unit tests and the fuzz config still instrument them).
"""

NO_SANITIZER_COPTS = select({
    "//tools/sanitizers:asan_build": ["-fno-sanitize=all"],
    "//conditions:default": [],
})

