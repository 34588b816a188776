"""Curated concept anchors for the latent map (latent_map-v1). Hand-written for Motif; GPL like the project.

Each anchor is a short phrase with labels for some latent fields. The build embeds every phrase
with MiniLM and fits the map from them (plus the open lexicons: VADER valence, XKCD/CSS colour
names). Label codes, so a line stays readable:

  scalars  br brightness 0..1 · co contrast 0..1 · sa saturation 0..1 · wa warmth -1..1 ·
           wi weather_intensity 0..1 · va valence -1..1 · ar arousal 0..1 · te tension 0..1 ·
           bpm tempo 40..220 · ro roughness 0..1 · me metalness 0..1 · we wear 0..1 · de density 0..1
  choices  tod time_of_day · wx weather · geo geometry_style · ens ensemble · cam camera_motion ·
           meter · mode

Scenes also carry a curated palette (5-7 sRGB colours, most important first).
Words used by the tests as *unseen* must not appear here (tests/test_encoder.py checks it).
"""

from __future__ import annotations

SCALAR_CODES = {
    "br": "brightness",
    "co": "contrast",
    "sa": "saturation",
    "wa": "warmth",
    "wi": "weather_intensity",
    "va": "valence",
    "ar": "arousal",
    "te": "tension",
    "bpm": "tempo_bpm",
    "ro": "roughness",
    "me": "metalness",
    "we": "wear",
    "de": "density",
}
CHOICE_CODES = {
    "tod": "time_of_day",
    "wx": "weather",
    "geo": "geometry_style",
    "ens": "ensemble",
    "cam": "camera_motion",
    "meter": "meter",
    "mode": "mode",
}

# --- Scenes: phrase, palette, labels ---------------------------------------------------------------
SCENES: list[tuple[str, list[str], str]] = [
    ("cyberpunk neon night city", ["#0d0b1e", "#ff2a6d", "#05d9e8", "#7a04eb", "#1b1f4b", "#d1f7ff"],
     "br=.2 co=.85 sa=.95 wa=-.3 va=-.1 ar=.75 te=.55 bpm=118 ro=.3 me=.75 we=.5 de=.9 "
     "tod=night wx=rain geo=scifi ens=synthwave cam=dolly"),
    ("neon signs glowing in a dark alley", ["#120c1c", "#ff3cac", "#00e5ff", "#fffb00", "#3a1c5c"],
     "br=.2 co=.85 sa=.9 wa=-.2 ar=.6 te=.5 me=.5 we=.6 de=.8 tod=night geo=industrial ens=synthwave cam=handheld"),
    ("sun-baked desert dunes", ["#e8c07d", "#c98a4b", "#f4e1b5", "#a0522d", "#87b5d6", "#6b3e26"],
     "br=.9 co=.6 sa=.6 wa=.9 wi=.1 va=.1 ar=.3 te=.3 bpm=84 ro=.8 me=.05 we=.5 de=.15 "
     "tod=noon wx=clear geo=natural ens=cinematic_hybrid cam=crane"),
    ("sandstorm in the desert", ["#c9a46a", "#a67c48", "#e3cfa3", "#7d5a3a", "#d8b98a"],
     "br=.5 co=.3 sa=.45 wa=.8 wi=.9 va=-.3 ar=.75 te=.7 ro=.9 we=.7 de=.4 wx=dust geo=natural cam=handheld"),
    ("lush green forest", ["#1f3d1c", "#3e6b2f", "#7fa650", "#c7d98a", "#5a3e24", "#a7c4a0"],
     "br=.55 co=.5 sa=.6 wa=.15 va=.4 ar=.25 te=.15 bpm=80 ro=.85 me=0 we=.3 de=.8 "
     "tod=morning wx=clear geo=natural ens=folk cam=dolly"),
    ("dark pine forest at night", ["#0c1a14", "#1e3326", "#2f4a3a", "#6b7f74", "#0a0f1a"],
     "br=.1 co=.55 sa=.3 wa=-.3 va=-.4 ar=.35 te=.6 ro=.85 de=.8 tod=night geo=natural ens=ambient cam=handheld"),
    ("icy tundra under a pale sky", ["#eaf4fb", "#b9d6ea", "#7fa7c9", "#4a6b8a", "#d5dde3", "#2e4057"],
     "br=.8 co=.4 sa=.25 wa=-.9 wi=.4 va=-.2 ar=.2 te=.35 bpm=66 ro=.4 me=.05 we=.3 de=.1 "
     "tod=morning wx=snow geo=natural ens=ambient cam=crane"),
    ("frozen glacier cave", ["#cfeefc", "#7fd1f0", "#2b8cbf", "#0f4c75", "#f2fbff"],
     "br=.6 co=.5 sa=.5 wa=-.95 va=-.1 ar=.25 te=.4 ro=.15 me=0 we=.1 de=.3 geo=organic ens=ambient cam=dolly"),
    ("underwater coral reef", ["#0a6c8f", "#1fb5c9", "#7ee0d8", "#ff7f6e", "#f4d06f", "#063a5a"],
     "br=.6 co=.45 sa=.8 wa=-.4 va=.5 ar=.35 te=.15 bpm=78 ro=.5 me=0 we=.2 de=.8 "
     "tod=noon geo=organic ens=ambient cam=orbit"),
    ("the deep ocean abyss", ["#020b1a", "#06223d", "#0b3d5c", "#00e0c7", "#3f1d5c"],
     "br=.05 co=.6 sa=.5 wa=-.7 va=-.4 ar=.2 te=.7 bpm=56 ro=.4 de=.2 tod=night geo=organic ens=ambient cam=static"),
    ("spring meadow with wildflowers in sunshine", ["#8cc152", "#f6e58d", "#ffffff", "#f8a5c2", "#74b9ff", "#badc58"],
     "br=.9 co=.45 sa=.55 wa=.5 va=.85 ar=.35 te=.05 bpm=96 ro=.7 me=0 we=.1 de=.5 "
     "tod=morning wx=clear geo=natural ens=folk cam=crane mode=major"),
    ("volcanic lava field", ["#120807", "#3b0f0a", "#b81d0a", "#ff6a00", "#ffc145", "#4d4d4d"],
     "br=.3 co=.9 sa=.85 wa=.95 va=-.5 ar=.85 te=.85 bpm=132 ro=.9 me=.1 we=.6 de=.4 "
     "tod=night wx=dust geo=natural ens=cinematic_hybrid cam=crane"),
    ("autumn forest with falling leaves", ["#c0392b", "#e67e22", "#f1c40f", "#7a4b27", "#556b2f", "#f5deb3"],
     "br=.6 co=.5 sa=.7 wa=.8 va=.3 ar=.25 te=.15 bpm=88 ro=.8 de=.7 tod=afternoon geo=natural ens=folk cam=dolly"),
    ("snowy mountain village at christmas", ["#ffffff", "#c8102e", "#0b6623", "#f2c14e", "#35495e", "#a9c5d8"],
     "br=.7 co=.5 sa=.5 wa=.2 wi=.4 va=.75 ar=.3 te=.1 bpm=92 ro=.6 we=.3 de=.6 "
     "tod=dusk wx=snow geo=medieval ens=orchestral cam=crane mode=major"),
    ("misty moor in grey fog", ["#8a9490", "#b5bdb8", "#5b6b5f", "#d9dedb", "#3f4a44"],
     "br=.45 co=.15 sa=.15 wa=-.2 wi=.6 va=-.3 ar=.15 te=.45 bpm=64 ro=.8 we=.5 de=.3 "
     "tod=morning wx=fog geo=natural ens=ambient cam=static"),
    ("tropical beach at noon", ["#40e0d0", "#f5deb3", "#ffffff", "#2e8b57", "#87ceeb", "#ffa07a"],
     "br=.95 co=.5 sa=.75 wa=.6 va=.8 ar=.5 te=.05 bpm=104 ro=.6 me=0 we=.15 de=.3 "
     "tod=noon wx=clear geo=natural ens=folk cam=crane mode=major"),
    ("golden hour sunset over the sea", ["#ff7e5f", "#feb47b", "#ffd86f", "#6a3093", "#1e3c72", "#f7c6a3"],
     "br=.6 co=.6 sa=.75 wa=.85 va=.5 ar=.25 te=.1 bpm=80 tod=dusk wx=clear ens=cinematic_hybrid cam=crane"),
    ("moonlit night sky", ["#0b1026", "#1c2541", "#3a506b", "#c9d6df", "#f5f3ce"],
     "br=.15 co=.6 sa=.3 wa=-.5 va=.1 ar=.1 te=.25 bpm=62 tod=night wx=clear ens=piano cam=static"),
    ("gothic cathedral interior with stained glass", ["#2b2b33", "#6b6b70", "#8b0000", "#d4a017", "#2a1b4d", "#1f4e79"],
     "br=.3 co=.75 sa=.5 wa=.1 va=-.1 ar=.3 te=.45 bpm=60 ro=.7 me=.15 we=.5 de=.8 "
     "tod=afternoon geo=medieval ens=choral cam=crane"),
    ("medieval castle on a hill", ["#7d7461", "#a39e93", "#4a4238", "#8b1e1e", "#3d5a3a", "#c9b79c"],
     "br=.55 co=.55 sa=.4 wa=.2 va=.1 ar=.4 te=.35 bpm=96 ro=.85 me=.1 we=.6 de=.6 "
     "tod=afternoon geo=medieval ens=orchestral cam=crane"),
    ("haunted house at midnight", ["#0a0a0f", "#2d1b3d", "#4b5320", "#8f9779", "#e8e4d8", "#5c0a0a"],
     "br=.1 co=.75 sa=.3 wa=-.3 va=-.8 ar=.55 te=.95 bpm=70 ro=.8 me=.1 we=.95 de=.6 "
     "tod=night wx=fog geo=architectural ens=ambient cam=handheld mode=minor"),
    ("space station interior", ["#e6e9ed", "#9aa5b1", "#3e4c59", "#1f93ff", "#ff8c1a", "#17202a"],
     "br=.65 co=.55 sa=.4 wa=-.4 va=.1 ar=.4 te=.4 bpm=100 ro=.25 me=.9 we=.15 de=.6 "
     "geo=scifi ens=cinematic_hybrid cam=dolly"),
    ("nebula in deep space", ["#050314", "#2b0f4c", "#8e2de2", "#ff4eb8", "#00c6ff", "#1a1a6e"],
     "br=.15 co=.7 sa=.85 wa=-.3 va=.2 ar=.2 te=.3 bpm=66 de=.3 tod=night geo=scifi ens=ambient cam=orbit"),
    ("steampunk workshop", ["#b5a642", "#b87333", "#4a2c17", "#704214", "#2f5d50", "#e6d3a3"],
     "br=.4 co=.6 sa=.5 wa=.7 va=.2 ar=.5 te=.35 bpm=108 ro=.5 me=.8 we=.6 de=.9 "
     "geo=industrial ens=orchestral cam=orbit"),
    ("rusty abandoned factory", ["#8b4513", "#a0522d", "#5a5a5a", "#2e2e2e", "#c2b280", "#e1ad01"],
     "br=.35 co=.6 sa=.35 wa=.3 va=-.5 ar=.35 te=.6 bpm=90 ro=.9 me=.85 we=.95 de=.7 "
     "geo=industrial ens=ambient cam=handheld"),
    ("zen japanese garden", ["#6b8e23", "#f4c2c2", "#a9a9a9", "#fdfdf8", "#3b2f2f", "#8fbc8f"],
     "br=.7 co=.35 sa=.35 wa=.1 va=.6 ar=.05 te=.05 bpm=60 ro=.7 me=0 we=.2 de=.35 "
     "tod=morning geo=natural ens=ambient cam=static"),
    ("cherry blossoms in spring", ["#ffb7c5", "#ffe4e1", "#ffffff", "#9acd32", "#87cefa", "#c71585"],
     "br=.85 co=.35 sa=.5 wa=.3 va=.8 ar=.25 te=.05 bpm=88 ro=.6 de=.6 tod=morning wx=clear geo=natural "
     "ens=piano cam=dolly mode=major"),
    ("rainy city street at night", ["#0f1418", "#2c3e50", "#f39c12", "#16a085", "#95a5a6", "#d35400"],
     "br=.2 co=.65 sa=.45 wa=-.1 wi=.6 va=-.25 ar=.35 te=.4 bpm=84 ro=.2 me=.4 we=.5 de=.75 "
     "tod=night wx=rain geo=architectural ens=lofi cam=dolly"),
    ("cozy cabin with a crackling fireplace", ["#5c3a21", "#a0522d", "#ffb347", "#8b0000", "#f5e6c8", "#2f1b12"],
     "br=.4 co=.55 sa=.55 wa=.95 va=.75 ar=.15 te=.05 bpm=76 ro=.75 me=.05 we=.4 de=.6 "
     "tod=night wx=snow geo=natural ens=folk cam=static mode=major"),
    ("pastel candy dreamland", ["#ffd1dc", "#b5ead7", "#c7ceea", "#fff5ba", "#ffdac1", "#e2f0cb"],
     "br=.9 co=.2 sa=.35 wa=.3 va=.85 ar=.45 te=.05 bpm=116 ro=.35 me=0 we=0 de=.5 "
     "tod=noon geo=organic ens=chiptune cam=orbit mode=major"),
    ("post-apocalyptic wasteland", ["#8b7355", "#6e6651", "#a0522d", "#4f4a45", "#c2b28f", "#2f2b26"],
     "br=.5 co=.5 sa=.25 wa=.4 wi=.5 va=-.7 ar=.45 te=.7 bpm=86 ro=.95 me=.5 we=1 de=.35 "
     "tod=afternoon wx=dust geo=industrial ens=cinematic_hybrid cam=handheld mode=minor"),
    ("overgrown jungle temple ruins", ["#1b4d3e", "#2e7d32", "#7c8b5b", "#8d7b68", "#c5b358", "#0b2618"],
     "br=.45 co=.55 sa=.55 wa=.3 wi=.3 va=0 ar=.45 te=.55 bpm=100 ro=.9 me=.05 we=.9 de=.9 "
     "tod=afternoon geo=natural ens=orchestral cam=dolly"),
    ("aurora borealis over the arctic", ["#04142b", "#0b3954", "#38ef7d", "#8e44ad", "#e0f7fa", "#11998e"],
     "br=.2 co=.6 sa=.7 wa=-.8 va=.5 ar=.2 te=.15 bpm=64 ro=.4 de=.15 tod=night wx=clear geo=natural "
     "ens=ambient cam=crane"),
    ("art deco ballroom", ["#0d0d0d", "#d4af37", "#f5f0e1", "#046307", "#7f1734", "#b8860b"],
     "br=.5 co=.75 sa=.5 wa=.5 va=.6 ar=.55 te=.2 bpm=120 ro=.2 me=.7 we=.1 de=.7 "
     "tod=night geo=architectural ens=jazz cam=orbit"),
    ("retro synthwave sunset highway", ["#2b1055", "#d53a9d", "#ff9a3c", "#19d3da", "#120136", "#ff3864"],
     "br=.35 co=.7 sa=.9 wa=.2 va=.45 ar=.65 te=.3 bpm=110 ro=.3 me=.6 we=.1 de=.4 "
     "tod=dusk geo=scifi ens=synthwave cam=dolly"),
    ("film noir detective office", ["#0b0b0b", "#3a3a3a", "#8c8c8c", "#e0e0e0", "#b8860b"],
     "br=.25 co=.95 sa=.05 wa=.1 va=-.4 ar=.3 te=.7 bpm=78 ro=.6 me=.2 we=.5 de=.5 "
     "tod=night wx=rain geo=architectural ens=jazz cam=static mode=minor"),
    ("lavender fields in provence", ["#9b87c4", "#b57edc", "#6b8e23", "#f3e5ab", "#87ceeb", "#f4a460"],
     "br=.85 co=.45 sa=.55 wa=.4 va=.8 ar=.2 te=.05 bpm=84 ro=.7 de=.6 tod=afternoon wx=clear geo=natural "
     "ens=folk cam=crane mode=major"),
    ("murky swamp", ["#2f3b1f", "#4b5320", "#6b5b3e", "#8a9a5b", "#1c2414"],
     "br=.3 co=.4 sa=.3 wa=.1 wi=.4 va=-.4 ar=.25 te=.6 bpm=70 ro=.9 we=.7 de=.8 wx=fog geo=organic "
     "ens=folk cam=handheld"),
    ("bioluminescent alien planet", ["#0b0221", "#6a00f4", "#00f5d4", "#f72585", "#3a0ca3", "#80ffdb"],
     "br=.25 co=.7 sa=.95 wa=-.4 va=.2 ar=.45 te=.45 bpm=96 ro=.4 me=.2 we=.1 de=.75 "
     "tod=night geo=organic ens=ambient cam=orbit"),
    ("ancient egyptian temple", ["#d2b48c", "#c9a227", "#1f4e9c", "#40e0d0", "#8b5a2b", "#1a1a1a"],
     "br=.75 co=.65 sa=.55 wa=.75 va=.2 ar=.4 te=.4 bpm=92 ro=.8 me=.3 we=.7 de=.6 "
     "tod=noon wx=clear geo=architectural ens=orchestral cam=crane"),
    ("enchanted fairy tale forest", ["#0f4c5c", "#5fa8a0", "#b3e5a1", "#9d79bc", "#f9d56e", "#1d3b2a"],
     "br=.5 co=.45 sa=.6 wa=.1 va=.6 ar=.3 te=.2 bpm=90 ro=.7 we=.3 de=.85 tod=dusk geo=organic "
     "ens=orchestral cam=dolly"),
    ("sterile hospital laboratory", ["#f7f9fa", "#dfe6e9", "#a4c8d6", "#b2d8b2", "#636e72"],
     "br=.9 co=.3 sa=.15 wa=-.5 va=-.2 ar=.3 te=.5 bpm=90 ro=.2 me=.6 we=.05 de=.4 "
     "geo=architectural ens=electronic cam=static"),
    ("the fiery pits of hell", ["#1a0000", "#8b0000", "#ff2400", "#ff8c00", "#330a0a", "#ffd000"],
     "br=.3 co=.9 sa=.9 wa=1 va=-.9 ar=.9 te=.95 bpm=150 ro=.9 me=.3 we=.8 de=.6 "
     "geo=organic ens=cinematic_hybrid cam=handheld mode=minor"),
    ("heaven above the clouds", ["#ffffff", "#f7e7b4", "#cfe8ff", "#ffd1dc", "#e6e6fa"],
     "br=1 co=.2 sa=.25 wa=.4 va=.9 ar=.15 te=0 bpm=70 ro=.3 me=.1 we=0 de=.3 tod=noon wx=cloudy "
     "geo=architectural ens=choral cam=crane mode=major"),
    ("retro 8-bit arcade", ["#000000", "#ff004d", "#00e436", "#29adff", "#ffec27", "#ff77a8"],
     "br=.45 co=.9 sa=1 wa=0 va=.7 ar=.75 te=.25 bpm=150 ro=.3 me=.2 we=.1 de=.6 tod=night geo=architectural "
     "ens=chiptune cam=static mode=major"),
    ("whitewashed mediterranean village by the sea", ["#ffffff", "#1e5aa8", "#e2725b", "#808000", "#c71585", "#87ceeb"],
     "br=.95 co=.55 sa=.6 wa=.55 va=.8 ar=.35 te=.05 bpm=100 ro=.6 me=0 we=.3 de=.6 tod=afternoon "
     "wx=clear geo=architectural ens=folk cam=dolly mode=major"),
    ("thunderstorm over the plains", ["#2f3640", "#4b4e6d", "#6c5b7b", "#f5f6fa", "#c8b273", "#192a56"],
     "br=.25 co=.8 sa=.3 wa=-.2 wi=.95 va=-.4 ar=.85 te=.85 bpm=128 ro=.7 de=.3 tod=afternoon "
     "wx=storm geo=natural ens=cinematic_hybrid cam=handheld"),
    ("foggy harbour at dawn", ["#9aa8b5", "#c9c3bd", "#f2c6a0", "#5d6d7e", "#e5e8e8"],
     "br=.5 co=.2 sa=.2 wa=0 wi=.6 va=0 ar=.1 te=.3 bpm=66 ro=.6 me=.3 we=.5 de=.4 tod=dawn wx=fog "
     "geo=industrial ens=ambient cam=static"),
    ("bamboo forest", ["#4f7942", "#8fbc5a", "#c5e1a5", "#2d4a22", "#e8f5e9"],
     "br=.6 co=.4 sa=.45 wa=.05 va=.5 ar=.15 te=.1 bpm=70 ro=.6 we=.2 de=.85 tod=morning geo=natural "
     "ens=ambient cam=dolly"),
    ("red rock canyon in the wild west", ["#b7410e", "#d2691e", "#e9c46a", "#87ceeb", "#6b4226", "#f4a261"],
     "br=.8 co=.65 sa=.6 wa=.85 va=.2 ar=.4 te=.4 bpm=96 ro=.9 me=.1 we=.6 de=.25 tod=afternoon "
     "wx=clear geo=natural ens=folk cam=crane"),
    ("glittering crystal cave", ["#1b1035", "#6c3483", "#a569bd", "#5dade2", "#f5eef8", "#0e2a47"],
     "br=.35 co=.7 sa=.7 wa=-.5 va=.3 ar=.25 te=.35 bpm=72 ro=.1 me=.1 we=.1 de=.6 geo=organic "
     "ens=ambient cam=orbit"),
    ("smoky battlefield", ["#4a4a48", "#6e6258", "#8b2500", "#a89f91", "#2b2a28"],
     "br=.3 co=.6 sa=.25 wa=.2 wi=.6 va=-.85 ar=.95 te=.95 bpm=140 ro=.9 me=.5 we=.9 de=.6 wx=dust "
     "geo=medieval ens=orchestral cam=handheld mode=minor"),
    ("waterfall in a rainforest", ["#0b6e4f", "#08a045", "#6bbf59", "#dde8e3", "#1b998b", "#3d2b1f"],
     "br=.6 co=.5 sa=.65 wa=0 wi=.5 va=.55 ar=.45 te=.15 bpm=92 ro=.7 de=.85 wx=rain geo=natural "
     "ens=ambient cam=crane"),
    ("modern glass skyscrapers at noon", ["#d6e4f0", "#8fa9bf", "#4f6d8c", "#c0c0c0", "#f8f8f8", "#2c3e50"],
     "br=.85 co=.6 sa=.25 wa=-.3 va=.2 ar=.5 te=.3 bpm=112 ro=.15 me=.75 we=.05 de=.7 tod=noon "
     "wx=clear geo=architectural ens=electronic cam=crane"),
    ("halloween pumpkin patch", ["#ff7518", "#1a1a1a", "#5c2a86", "#f2c14e", "#3b5323", "#8b4513"],
     "br=.3 co=.7 sa=.7 wa=.6 va=-.1 ar=.45 te=.6 bpm=100 ro=.8 we=.6 de=.6 tod=dusk wx=fog geo=natural "
     "ens=orchestral cam=handheld mode=minor"),
    ("snow falling on a winter night", ["#0e1a2b", "#2a3f5f", "#d8e2ef", "#ffffff", "#f6c667"],
     "br=.25 co=.5 sa=.2 wa=-.6 wi=.5 va=.2 ar=.1 te=.15 bpm=68 ro=.5 we=.2 de=.4 tod=night wx=snow "
     "geo=architectural ens=piano cam=static"),
    ("late night study room with a desk lamp", ["#2e2a4f", "#5b4b8a", "#f2a65a", "#f7d6a0", "#1c1b2e", "#6a8caf"],
     "br=.3 co=.45 sa=.4 wa=.5 va=.3 ar=.1 te=.1 bpm=78 ro=.6 me=.1 we=.4 de=.6 tod=night geo=architectural "
     "ens=lofi cam=static"),
    ("grand concert hall", ["#5a1a1a", "#c9a86a", "#2b1d14", "#f2e8cf", "#8b6f47"],
     "br=.5 co=.6 sa=.45 wa=.6 va=.5 ar=.5 te=.3 ro=.4 me=.2 we=.2 de=.7 tod=night geo=architectural "
     "ens=orchestral cam=crane"),
    ("dense bustling bazaar", ["#d35400", "#f39c12", "#8e44ad", "#c0392b", "#16a085", "#f4e1c1"],
     "br=.7 co=.6 sa=.8 wa=.7 va=.6 ar=.7 te=.3 bpm=112 ro=.7 me=.2 we=.5 de=1 tod=afternoon wx=clear "
     "geo=architectural ens=folk cam=handheld"),
    ("minimalist white gallery", ["#ffffff", "#f0f0f0", "#d9d9d9", "#1a1a1a", "#b0b0b0"],
     "br=.95 co=.5 sa=0 wa=0 va=.3 ar=.1 te=.1 bpm=80 ro=.3 me=.1 we=0 de=.05 tod=noon "
     "geo=architectural ens=piano cam=static"),
]

# --- Mood, music, light, material concepts (no palette) -------------------------------------------
CONCEPTS: list[tuple[str, str]] = [
    # valence / arousal / tension / tempo
    ("joyful celebration", "va=.95 ar=.8 te=.05 bpm=128 br=.8 sa=.75 wa=.5 mode=major"),
    ("a happy carefree summer day", "va=.9 ar=.55 te=0 bpm=116 br=.9 sa=.7 wa=.6 mode=major tod=noon"),
    ("birthday party with friends", "va=.9 ar=.8 te=.05 bpm=124 br=.75 sa=.8 mode=major"),
    ("triumphant victory", "va=.85 ar=.85 te=.3 bpm=120 mode=major ens=orchestral"),
    ("hopeful new beginning", "va=.7 ar=.45 te=.1 bpm=96 br=.75 mode=major"),
    ("peaceful and serene", "va=.6 ar=.05 te=0 bpm=60 co=.25 cam=static"),
    ("romantic candlelit dinner", "va=.75 ar=.25 te=.1 bpm=72 br=.3 wa=.8 ens=jazz"),
    ("playful and whimsical", "va=.8 ar=.6 te=.1 bpm=120 sa=.7 mode=major"),
    ("nostalgic bittersweet memories", "va=.05 ar=.2 te=.2 bpm=76 sa=.35 wa=.4 ens=piano"),
    ("calm meditation", "va=.4 ar=0 te=0 bpm=50 co=.2 cam=static ens=ambient"),
    ("dreamy and ethereal", "va=.4 ar=.1 te=.1 bpm=64 co=.2 br=.7 sa=.4 ens=ambient"),
    ("melancholy and sorrow", "va=-.8 ar=.15 te=.3 bpm=60 sa=.2 br=.35 mode=minor"),
    ("grief and mourning", "va=-.95 ar=.15 te=.35 bpm=54 sa=.1 br=.25 mode=minor"),
    ("lonely and heartbroken", "va=-.8 ar=.2 te=.3 bpm=64 sa=.25 mode=minor ens=piano"),
    ("depressing grey despair", "va=-.9 ar=.1 te=.4 bpm=56 sa=.05 br=.3 mode=minor"),
    ("dark and brooding", "va=-.6 ar=.3 te=.65 bpm=70 br=.15 co=.7 mode=minor"),
    ("tragic loss", "va=-.9 ar=.3 te=.5 bpm=58 mode=minor"),
    ("angry rage", "va=-.7 ar=.95 te=.9 bpm=160 co=.85 sa=.7 wa=.6"),
    ("terrifying horror", "va=-.9 ar=.8 te=1 bpm=90 br=.1 co=.8 mode=minor cam=handheld"),
    ("creepy unsettling dread", "va=-.7 ar=.4 te=.9 bpm=66 br=.2 mode=minor"),
    ("suspenseful thriller", "va=-.3 ar=.65 te=.9 bpm=100 co=.7 mode=minor"),
    ("mysterious and enigmatic", "va=-.1 ar=.3 te=.6 bpm=76 br=.3 mode=minor"),
    ("tense standoff", "va=-.3 ar=.6 te=.95 bpm=84 co=.75"),
    ("frantic chase", "va=-.2 ar=1 te=.9 bpm=170 cam=handheld"),
    ("epic heroic battle", "va=.1 ar=.95 te=.85 bpm=150 co=.75 ens=orchestral cam=handheld"),
    ("energetic and upbeat", "va=.75 ar=.85 te=.1 bpm=128 sa=.8"),
    ("intense and powerful", "va=0 ar=.95 te=.7 bpm=140 co=.8"),
    ("lazy relaxed afternoon", "va=.5 ar=.1 te=0 bpm=72 tod=afternoon"),
    ("sleepy and drowsy", "va=.2 ar=0 te=0 bpm=52 br=.3"),
    ("slow and gentle", "ar=.05 te=.05 bpm=58"),
    ("fast and furious", "ar=1 te=.7 bpm=180"),
    ("chaotic and overwhelming", "va=-.4 ar=1 te=.9 bpm=165 de=.95 cam=handheld"),
    ("quiet stillness", "va=.2 ar=0 te=.05 bpm=48 de=.1 cam=static"),
    ("majestic and grand", "va=.5 ar=.6 te=.3 bpm=84 cam=crane ens=orchestral"),
    ("ominous foreboding", "va=-.6 ar=.4 te=.85 bpm=68 br=.2 mode=minor"),
    ("festive cheerful", "va=.9 ar=.7 te=.05 bpm=120 sa=.8 mode=major"),
    ("sad", "va=-.8 ar=.2 mode=minor bpm=62"),
    ("happy", "va=.85 ar=.6 mode=major bpm=116"),
    ("calm", "va=.4 ar=.05 te=.05 bpm=60"),
    ("exciting", "va=.6 ar=.9 te=.4 bpm=140"),
    ("scary", "va=-.8 ar=.7 te=.95 mode=minor"),
    ("anxious nervous", "va=-.5 ar=.7 te=.85 bpm=110"),
    ("tender love", "va=.8 ar=.2 te=.05 bpm=70 wa=.6"),
    ("war and destruction", "va=-.95 ar=.95 te=.95 bpm=140 we=1 mode=minor"),
    ("death", "va=-.95 ar=.2 te=.6 bpm=56 br=.2 mode=minor"),
    ("wonder and awe", "va=.7 ar=.45 te=.2 bpm=80 cam=crane"),
    ("boring and dull", "va=-.2 ar=.05 te=.05 sa=.1 co=.2"),
    ("in a minor key", "mode=minor va=-.4"),
    ("in a major key", "mode=major va=.4"),
    ("lullaby for a baby", "va=.6 ar=0 te=0 bpm=56 ens=piano meter=3/4 mode=major"),
    ("heavy metal mosh pit", "va=-.2 ar=1 te=.8 bpm=180 ens=rock"),
    ("dance club at 2am", "va=.6 ar=.95 te=.3 bpm=128 br=.2 sa=.85 ens=electronic tod=night"),
    ("hip hop beat", "va=.3 ar=.6 te=.3 bpm=90 ens=lofi meter=4/4"),
    ("slow ballad", "va=0 ar=.15 te=.2 bpm=66"),
    ("marching army", "ar=.8 te=.7 bpm=112 meter=4/4 ens=orchestral"),
    ("waltz in a ballroom", "va=.6 ar=.45 bpm=90 meter=3/4 ens=orchestral"),
    ("minuet", "meter=3/4 bpm=100 va=.5"),
    ("lilting irish jig", "meter=6/8 bpm=120 va=.8 ar=.7 ens=folk"),
    ("rocking boat on gentle waves", "meter=6/8 bpm=70 ar=.2 va=.4"),
    ("sea shanty", "meter=6/8 bpm=104 va=.5 ar=.6 ens=folk"),
    ("barcarolle", "meter=6/8 bpm=66 va=.4 ar=.2"),
    ("tarantella", "meter=6/8 bpm=160 va=.7 ar=.9 ens=folk"),
    ("four on the floor", "meter=4/4 bpm=126 ens=electronic"),
    ("driving rock beat", "meter=4/4 bpm=140 ar=.85 ens=rock"),
    ("straight steady pulse", "meter=4/4"),
    # light, colour and grade
    ("bright sunny daylight", "br=.95 co=.6 sa=.65 wa=.5 tod=noon wx=clear"),
    ("pitch black darkness", "br=0 co=.5 sa=.05 tod=night"),
    ("dimly lit", "br=.2 co=.5"),
    ("brilliant dazzling light", "br=1 co=.7"),
    ("shadowy gloom", "br=.12 co=.6 sa=.15 va=-.4"),
    ("high contrast harsh shadows", "co=.95 br=.55"),
    ("soft diffuse light", "co=.15 br=.65"),
    ("flat overcast light", "co=.15 br=.55 sa=.2 wx=cloudy"),
    ("washed-out faded colours", "sa=.1 co=.25 br=.7"),
    ("vivid saturated colours", "sa=1 co=.7"),
    ("muted desaturated tones", "sa=.1 co=.35"),
    ("black and white monochrome", "sa=0 co=.8"),
    ("pastel colours", "sa=.35 br=.85 co=.2"),
    ("neon glow", "sa=1 br=.25 co=.85 wa=-.2"),
    ("warm golden light", "wa=.85 br=.65 sa=.6"),
    ("cool blue light", "wa=-.85 br=.5 sa=.5"),
    ("cold", "wa=-.9"),
    ("hot", "wa=.9"),
    ("freezing winter", "wa=-.9 wx=snow br=.7"),
    ("scorching summer heat", "wa=.95 br=.9 tod=noon wx=clear"),
    ("fire and embers", "wa=1 br=.35 sa=.8 co=.8"),
    ("sepia toned", "wa=.6 sa=.3"),
    ("teal and orange", "wa=.2 sa=.7 co=.7"),
    ("candlelight", "wa=.9 br=.25 co=.7 tod=night"),
    ("moonlight", "wa=-.6 br=.15 tod=night"),
    ("fluorescent office light", "wa=-.3 br=.75 co=.3 sa=.2"),
    ("gloomy", "br=.2 va=-.5 sa=.2"),
    ("radiant", "br=.95 va=.7"),
    ("drab grey office cubicles", "sa=.05 br=.6 va=-.3 co=.3 me=.3"),
    ("dull grey asphalt and cement", "sa=.05 co=.3 ro=.8"),
    ("colourless and bleak", "sa=0 va=-.5"),
    ("beige and brown tones", "sa=.2 wa=.3"),
    ("a rainbow of bright colours", "sa=1 va=.8 br=.8"),
    ("colourful tropical flowers", "sa=.95 br=.75 wa=.4"),
    ("vibrant carnival costumes", "sa=1 va=.8 ar=.8"),
    ("bold primary colours", "sa=.95 co=.8"),
    ("technicolor", "sa=1"),
    ("a grey industrial estate", "sa=.05 br=.5 va=-.3 me=.5"),
    ("a dull suburban street", "sa=.2 va=-.1 ar=.2"),
    ("a foggy grey day", "sa=.05 br=.5 wx=fog wi=.5"),
    ("an overcast grey city", "sa=.1 br=.45 wx=cloudy wi=.4"),
    ("ash and soot", "sa=0 br=.2 we=.9"),
    ("a colourful flower market", "sa=.95 br=.75 va=.7 de=.85"),
    ("exotic birds and butterflies", "sa=.95 va=.7"),
    ("a toy shop full of colourful toys", "sa=.95 va=.8 br=.75"),
    ("a candy store", "sa=.9 va=.8 br=.8"),
    ("a rainy grey motorway", "sa=.1 br=.4 va=-.3 wx=rain wi=.5"),
    ("an empty grey warehouse", "sa=.05 br=.45 de=.1 me=.4 we=.5"),
    ("a dusty attic", "sa=.2 br=.3 we=.8 ro=.85"),
    ("a bleak housing estate", "sa=.1 va=-.5 we=.6"),
    ("a muddy trench", "sa=.1 br=.3 va=-.8 we=.9 ro=1"),
    ("a coral reef full of tropical fish", "sa=1 br=.7 va=.7"),
    ("a bollywood dance number", "sa=1 va=.9 ar=.9 bpm=130"),
    ("hot air balloons over a valley", "sa=.9 br=.85 va=.8"),
    ("a tropical fruit stall", "sa=.95 br=.8 wa=.6 va=.7"),
    ("a field of tulips", "sa=.95 br=.85 va=.8"),
    ("a kaleidoscope", "sa=1 de=.9"),
    # time of day
    ("sunrise", "tod=dawn br=.55 wa=.6"),
    ("first light before sunrise", "tod=dawn br=.35 wa=.1"),
    ("daybreak", "tod=dawn br=.5"),
    ("early morning dew", "tod=morning br=.7 wa=.1"),
    ("breakfast time", "tod=morning br=.75"),
    ("morning commute", "tod=morning br=.7"),
    ("high noon", "tod=noon br=1 co=.8"),
    ("midday sun", "tod=noon br=.95"),
    ("lunchtime", "tod=noon br=.9"),
    ("late afternoon", "tod=afternoon br=.7 wa=.5"),
    ("afternoon tea", "tod=afternoon br=.75 va=.5"),
    ("sunset", "tod=dusk br=.45 wa=.85 sa=.7"),
    ("twilight", "tod=dusk br=.3 wa=-.1"),
    ("evening", "tod=dusk br=.35"),
    ("midnight", "tod=night br=.08"),
    ("late at night", "tod=night br=.1"),
    ("in the dead of night", "tod=night br=.05 te=.5"),
    ("the small hours after midnight", "tod=night br=.08"),
    ("city lights at night", "tod=night br=.2 sa=.6"),
    ("noon", "tod=noon br=.95"),
    ("the middle of the day", "tod=noon br=.9"),
    ("the sun directly overhead", "tod=noon br=1 co=.8"),
    ("morning", "tod=morning br=.75"),
    ("afternoon", "tod=afternoon br=.75"),
    ("dawn", "tod=dawn br=.45"),
    ("dusk", "tod=dusk br=.35 wa=.5"),
    ("night", "tod=night br=.1"),
    ("starry night sky", "tod=night br=.12 wa=-.4"),
    ("nighttime", "tod=night br=.1"),
    ("after dark", "tod=night br=.12"),
    # weather
    ("clear blue sky", "wx=clear wi=0 br=.9"),
    ("sunny", "wx=clear wi=0 br=.9"),
    ("cloudy", "wx=cloudy wi=.4"),
    ("rain", "wx=rain wi=.6"),
    ("in the rain", "wx=rain wi=.6"),
    ("storm", "wx=storm wi=.85 te=.7"),
    ("a violent storm", "wx=storm wi=1 te=.8 ar=.85"),
    ("snow", "wx=snow wi=.5 wa=-.7"),
    ("fog", "wx=fog wi=.6 co=.2"),
    ("dust", "wx=dust wi=.5"),
    ("misty", "wx=fog wi=.5 co=.25"),
    ("a misty morning", "wx=fog wi=.5 tod=morning co=.25"),
    ("dusty", "wx=dust wi=.4"),
    ("sand blowing in the wind", "wx=dust wi=.7"),
    ("a sunny beach", "wx=clear wi=0 br=.95 tod=noon"),
    ("a calm sea on a fine day", "wx=clear wi=0 br=.85"),
    ("calm fine weather", "wx=clear wi=0"),
    ("overcast cloudy sky", "wx=cloudy wi=.4 br=.5 co=.25"),
    ("grey clouds", "wx=cloudy wi=.4 sa=.2"),
    ("drizzle", "wx=rain wi=.25"),
    ("pouring rain", "wx=rain wi=.85 br=.35"),
    ("rainy day", "wx=rain wi=.55"),
    ("wet streets after rain", "wx=rain wi=.3 ro=.15"),
    ("monsoon", "wx=rain wi=.95"),
    ("thunder and lightning", "wx=storm wi=.95 te=.8 ar=.85"),
    ("hurricane", "wx=storm wi=1 ar=1 te=.95"),
    ("stormy sea", "wx=storm wi=.9 ar=.85 te=.8"),
    ("gale force wind", "wx=storm wi=.85"),
    ("light snowfall", "wx=snow wi=.3 wa=-.7"),
    ("blizzard", "wx=snow wi=1 wa=-.95 ar=.7 te=.7"),
    ("snowy", "wx=snow wi=.5 wa=-.8 br=.8"),
    ("dense fog", "wx=fog wi=.85 co=.1 br=.5"),
    ("light mist", "wx=fog wi=.35 co=.3"),
    ("hazy", "wx=fog wi=.4 co=.25"),
    ("dust storm", "wx=dust wi=.9 wa=.7"),
    ("drifting dust and sand", "wx=dust wi=.5 wa=.6"),
    ("smoke and ash", "wx=dust wi=.6 sa=.1"),
    # materials
    ("polished chrome", "ro=.05 me=1 we=0"),
    ("brushed steel", "ro=.35 me=1 we=.1"),
    ("shiny new metal", "ro=.1 me=.95 we=0"),
    ("rusty corroded iron", "ro=.9 me=.7 we=1"),
    ("weathered old wood", "ro=.9 me=0 we=.85"),
    ("smooth polished marble", "ro=.1 me=0 we=.05"),
    ("rough stone", "ro=.95 me=0 we=.5"),
    ("crumbling ruins", "ro=.95 me=0 we=1 va=-.3"),
    ("pristine and brand new", "we=0 ro=.3"),
    ("ancient and decayed", "we=1 ro=.9"),
    ("glossy plastic", "ro=.1 me=0 we=.05"),
    ("wet glistening surfaces", "ro=.05 we=.3"),
    ("soft fabric and velvet", "ro=.95 me=0"),
    ("glass and steel", "ro=.1 me=.8 we=.05"),
    ("gold and brass ornaments", "me=1 ro=.25"),
    ("muddy and dirty", "ro=.95 we=.9"),
    ("clean", "we=0"),
    ("abandoned", "we=.95 va=-.4"),
    ("battle-scarred", "we=.95"),
    # density
    ("empty and sparse", "de=.05"),
    ("minimalist", "de=.05 co=.4"),
    ("cluttered and crowded", "de=1"),
    ("dense overgrown jungle", "de=1"),
    ("vast open plain", "de=.1 cam=crane"),
    ("intricate detailed ornaments", "de=.95"),
    ("lonely single tree", "de=.1"),
    ("busy city crowd", "de=.95 ar=.7"),
]

# --- Choice-only anchors: field -> class -> phrases ------------------------------------------------
CHOICES: dict[str, dict[str, list[str]]] = {
    "geometry_style": {
        "architectural": ["modern architecture", "city buildings and plazas", "classical columns and arches",
                          "apartment blocks", "museum", "villa with courtyard", "bridges and towers"],
        "industrial": ["factory with pipes", "warehouse", "shipyard cranes", "power plant", "oil refinery",
                       "railway yard", "scaffolding and girders", "sewer tunnels"],
        "organic": ["alien organic shapes", "coral and sea anemones", "giant mushrooms", "flowing curves",
                    "tentacles and bones", "hive", "cells and membranes"],
        "natural": ["mountains and valleys", "rocks and boulders", "trees and bushes", "cliffs", "riverbank",
                    "countryside", "island", "grassland"],
        "scifi": ["spaceship", "futuristic city", "sci-fi corridor", "robots and drones", "holograms",
                  "space colony", "mech hangar", "starship bridge"],
        "medieval": ["castle walls", "medieval village", "tavern", "dungeon", "fantasy kingdom", "knights",
                     "monastery", "viking longhouse"],
    },
    "camera_motion": {
        "static": ["still life", "fixed camera", "locked-off shot", "a calm portrait", "tableau", "contemplative"],
        "dolly": ["walking through a corridor", "slow push in", "tracking shot", "exploring", "journey down a road",
                  "a reveal", "travelling through"],
        "orbit": ["a statue on display", "turntable showcase", "circling around a monument", "product shot",
                  "hero prop", "a single object"],
        "crane": ["sweeping vista", "epic landscape", "aerial view", "rising over the skyline", "panorama",
                  "from high above"],
        "handheld": ["documentary footage", "found footage", "running", "fight scene", "shaky action",
                     "panic", "street photography"],
    },
    "ensemble": {
        "orchestral": ["orchestral film score", "symphony orchestra", "classical music", "strings and brass",
                       "fantasy adventure soundtrack", "romantic period drama", "opera", "string quartet"],
        "cinematic_hybrid": ["cinematic hybrid trailer music", "epic trailer", "action movie soundtrack",
                             "sci-fi blockbuster score", "dramatic braams and percussion", "superhero film"],
        "synthwave": ["synthwave", "retrowave", "80s synth pop", "outrun", "vaporwave", "analog synthesizers",
                      "retro futurism"],
        "lofi": ["lo-fi hip hop", "chillhop beats to study to", "lofi chill", "vinyl crackle", "rainy window cafe",
                 "boom bap"],
        "ambient": ["ambient drone", "soundscape", "atmospheric pads", "new age", "field recordings",
                    "space ambient", "meditation music"],
        "folk": ["acoustic folk", "celtic music", "bluegrass", "country", "medieval bard", "campfire songs",
                 "world music", "banjo and fiddle"],
        "rock": ["rock band", "electric guitar", "heavy metal", "punk rock", "grunge", "indie rock",
                 "hard rock anthem", "stadium rock"],
        "jazz": ["jazz", "smoky jazz club", "swing big band", "bebop", "bossa nova", "blues", "saxophone solo",
                 "speakeasy"],
        "electronic": ["electronic dance music", "techno", "house music", "rave", "drum and bass", "trance",
                       "dubstep", "edm festival", "nightclub"],
        "chiptune": ["chiptune", "8-bit video game music", "retro game console", "pixel art platformer",
                     "arcade", "16-bit rpg"],
        "piano": ["solo piano", "piano nocturne", "intimate piano ballad", "piano sonata", "music box",
                  "gentle keys"],
        "choral": ["choir", "gregorian chant", "sacred choral music", "hymn", "church", "requiem mass",
                   "a cappella voices", "angelic chorus"],
    },
}

# Labels every phrase of a choice class also carries (genres imply a tempo, an energy and a meter).
CHOICE_DEFAULTS: dict[str, dict[str, str]] = {
    "ensemble": {
        "orchestral": "ar=.5",
        "cinematic_hybrid": "bpm=120 ar=.8 te=.6 meter=4/4",
        "synthwave": "bpm=108 ar=.65 meter=4/4",
        "lofi": "bpm=80 ar=.2 te=.1 meter=4/4",
        "ambient": "bpm=60 ar=.05 te=.2",
        "folk": "bpm=104 ar=.5",
        "rock": "bpm=136 ar=.9 meter=4/4",
        "jazz": "bpm=116 ar=.5",
        "electronic": "bpm=128 ar=.9 meter=4/4",
        "chiptune": "bpm=150 ar=.75 va=.6 meter=4/4",
        "piano": "bpm=70 ar=.15",
        "choral": "bpm=64 ar=.2",
    },
}

# Everyday things with no mood, light or weather of their own: they teach the map that words
# unrelated to a field mean "neutral" for it, instead of leaving the regression to extrapolate.
NEUTRAL_LABELS = "wa=0 wi=.05 va=0 te=.3 ar=.4 co=.5 sa=.5 br=.55 bpm=100 meter=4/4"
NEUTRAL_PHRASES = [
    "a chair", "a table and a lamp", "a person", "a book", "some boxes", "a door", "a street", "a car",
    "an office", "a kitchen", "a box on the floor", "a bicycle", "a room", "a building", "a window",
    "a wall", "a road", "people talking", "a bag", "a staircase",
]  # fmt: skip

# Anchors that say nothing about weather are labelled clear with this intensity.
UNSAID_WEATHER_INTENSITY = 0.05

# Log-prior added to a choice's score: the common case wins when a prompt says nothing about it.
CHOICE_BIAS: dict[str, dict[str, float]] = {
    "meter": {"4/4": 0.0, "3/4": -2.0, "6/8": -2.2},
    "mode": {"major": 0.0, "minor": 0.0},
    "weather": {"clear": 0.0},
    "camera_motion": {"dolly": 0.5, "static": 0.3},
}

# --- Ensembles: how much each instrument family plays (0..1) --------------------------------------
ENSEMBLE_FAMILIES: dict[str, dict[str, float]] = {
    "orchestral": {"strings": 1.0, "brass": 0.8, "woodwinds": 0.7, "percussion": 0.6, "bass": 0.5,
                   "mallets": 0.3, "choir": 0.25, "piano": 0.2},
    "cinematic_hybrid": {"strings": 0.8, "brass": 0.7, "percussion": 0.9, "synth_pad": 0.7, "bass": 0.8,
                         "drums": 0.6, "choir": 0.4, "piano": 0.3, "synth_lead": 0.3},
    "synthwave": {"synth_lead": 1.0, "synth_pad": 0.8, "bass": 0.9, "drums": 0.9, "keys": 0.4, "guitar": 0.2},
    "lofi": {"keys": 0.9, "piano": 0.6, "bass": 0.7, "drums": 0.7, "guitar": 0.4, "synth_pad": 0.4,
             "mallets": 0.2},
    "ambient": {"synth_pad": 1.0, "piano": 0.4, "strings": 0.35, "mallets": 0.3, "keys": 0.3, "choir": 0.2,
                "bass": 0.2},
    "folk": {"guitar": 1.0, "plucked": 0.8, "strings": 0.5, "woodwinds": 0.5, "percussion": 0.4, "bass": 0.3},
    "rock": {"guitar": 1.0, "drums": 1.0, "bass": 0.9, "keys": 0.3, "synth_lead": 0.1},
    "jazz": {"piano": 0.9, "bass": 0.9, "drums": 0.7, "brass": 0.7, "woodwinds": 0.6, "guitar": 0.3, "keys": 0.3},
    "electronic": {"bass": 1.0, "drums": 1.0, "synth_lead": 0.8, "synth_pad": 0.6, "percussion": 0.4, "keys": 0.2},
    "chiptune": {"synth_lead": 1.0, "bass": 0.7, "drums": 0.6, "synth_pad": 0.2, "mallets": 0.2},
    "piano": {"piano": 1.0, "strings": 0.2},
    "choral": {"choir": 1.0, "strings": 0.5, "keys": 0.3, "brass": 0.2, "piano": 0.1},
}


def parse_labels(spec: str) -> tuple[dict[str, float], dict[str, str]]:
    """'br=.2 tod=night' -> ({'brightness': 0.2}, {'time_of_day': 'night'})."""
    scalars: dict[str, float] = {}
    choices: dict[str, str] = {}
    for item in spec.split():
        code, _, value = item.partition("=")
        if code in SCALAR_CODES:
            scalars[SCALAR_CODES[code]] = float(value)
        elif code in CHOICE_CODES:
            choices[CHOICE_CODES[code]] = value
        else:
            raise ValueError(f"unknown label code {code!r} in {spec!r}")
    return scalars, choices
