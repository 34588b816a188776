"""The subject vocabulary and the environments: the words a prompt can use to name what it shows.

One table shared by the encoder (which matches a prompt's nouns to these tags through the MiniLM
embedding, encoder/subjects.py), the latent (which checks pinned subject names against it) and the
mesh decoder (which has one parametric recipe per subject, decoders/mesh/recipes/). Tags are names
and synonyms as people write them; the first tag is the plain name. See docs/MESH.md.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Subject:
    name: str  # the recipe's archetype ([a-z0-9_])
    category: str
    tags: tuple[str, ...]


def _s(name: str, category: str, *tags: str) -> Subject:
    return Subject(name, category, tags)


SUBJECTS: dict[str, Subject] = {
    s.name: s
    for s in (
        # the modular pieces every kit starts from, and the original street and nature props
        _s("wall", "structure", "wall", "brick wall", "stone wall", "facade"),
        _s("floor", "structure", "floor", "paving", "cobbles", "cobblestones", "floor tiles", "pavement"),
        _s("railing", "prop", "railing", "balustrade", "handrail", "guardrail"),
        _s("column", "prop", "column", "pillar", "colonnade", "pillars", "columns"),
        _s("crate", "prop", "crate", "crates", "cargo", "supplies"),
        _s("barrel", "prop", "barrel", "barrels", "cask", "keg", "oil drum"),
        _s("bench", "prop", "bench", "benches", "park bench", "pew"),
        _s("planter", "prop", "planter", "flower pot", "flowers", "garden", "flower box"),
        _s("stall", "architecture", "market stall", "stall", "market", "marketplace", "bazaar", "kiosk",
           "vendor", "shop"),
        _s("awning", "prop", "awning", "sunshade", "shop awning"),
        _s("sign", "prop", "sign", "signboard", "billboard", "signpost", "neon sign", "shop sign"),
        _s("lamp_post", "prop", "lamp post", "street lamp", "streetlight", "lamppost", "lamp posts"),
        _s("rock", "nature", "rock", "rocks", "boulder", "boulders", "stones", "pebbles"),
        _s("tree", "nature", "tree", "trees", "leafy tree", "leafy trees", "maple", "elm", "orchard", "park"),
        _s("log", "nature", "log", "logs", "stump", "fallen tree", "firewood", "timber"),
        # architecture
        _s("cabin", "architecture", "cabin", "log cabin", "chalet", "lodge", "hunting lodge", "ski lodge"),
        _s("hut", "architecture", "hut", "shack", "hovel", "cottage", "village", "hamlet", "shanty", "farmhouse"),
        _s("temple", "architecture", "temple", "sanctuary", "ziggurat", "monastery", "church", "cathedral"),
        _s("shrine", "architecture", "shrine", "pagoda", "altar", "wayside shrine", "stupa"),
        _s("torii", "architecture", "torii", "torii gate", "japanese gate"),
        _s("tower", "architecture", "tower", "watchtower", "turret", "keep", "spire", "bell tower"),
        _s("lighthouse", "architecture", "lighthouse", "beacon", "light tower"),
        _s("castle_wall", "architecture", "castle wall", "castle", "battlements", "rampart", "fortress", "fort",
           "citadel", "stronghold"),
        _s("gate", "architecture", "gate", "gatehouse", "portcullis", "city gate", "gateway"),
        _s("tent", "architecture", "tent", "tents", "camp", "campsite", "yurt", "pavilion", "encampment"),
        _s("bridge", "architecture", "bridge", "footbridge", "rope bridge", "walkway"),
        _s("well", "architecture", "well", "water well", "village well", "wishing well"),
        _s("windmill", "architecture", "windmill", "mill", "farm", "wind mill"),
        _s("dock", "architecture", "dock", "pier", "jetty", "wharf", "harbour", "harbor", "port", "boardwalk"),
        _s("fountain", "architecture", "fountain", "plaza", "square", "town square", "courtyard"),
        _s("stairs", "architecture", "stairs", "staircase", "steps", "stairway"),
        _s("archway", "architecture", "archway", "arch", "arcade", "arches"),
        # vehicles
        _s("boat", "vehicle", "boat", "rowboat", "canoe", "skiff", "dinghy", "fishing boat", "gondola"),
        _s("ship_hull", "vehicle", "ship", "ship hull", "shipwreck", "wreck", "galleon", "hull", "sailing ship",
           "longship",
           "pirate ship"),
        _s("cart", "vehicle", "cart", "wagon", "handcart", "wheelbarrow", "caravan", "carriage"),
        # nature
        _s("pine", "nature", "pine", "pine tree", "pines", "pine trees", "fir", "fir trees", "spruce", "spruce trees",
           "conifer", "evergreen", "christmas tree"),
        _s("palm", "nature", "palm", "palm tree", "palms", "palm trees", "coconut palm", "oasis palm"),
        _s("oak", "nature", "oak", "oak tree", "oaks", "oak trees", "old tree", "great tree"),
        _s("birch", "nature", "birch", "birch tree", "birches", "birch trees", "aspen", "silver birch"),
        _s("cactus", "nature", "cactus", "cacti", "saguaro", "succulent"),
        _s("bush", "nature", "bush", "bushes", "shrub", "shrubs", "hedge", "undergrowth", "fern", "ferns"),
        _s("coral", "nature", "coral", "corals", "reef", "coral reef", "sea anemone"),
        _s("kelp", "nature", "kelp", "seaweed", "algae", "sea grass", "kelp forest"),
        _s("mushroom", "nature", "mushroom", "mushrooms", "toadstool", "fungus", "fungi", "mycelium"),
        _s("crystal", "nature", "crystal", "crystals", "gem", "gems", "geode", "quartz", "amethyst"),
        _s("rock_arch", "nature", "rock arch", "natural arch", "stone arch", "sea arch"),
        _s("cliff", "nature", "cliff", "cliffs", "crag", "bluff", "rock face", "mountain", "mesa"),
        # props
        _s("statue", "prop", "statue", "sculpture", "idol", "monument", "bust", "effigy"),
        _s("broken_column", "prop", "broken column", "broken columns", "ruins", "ruin", "rubble", "ruined pillar"),
        _s("lantern", "prop", "lantern", "lanterns", "paper lantern", "lamp", "lamps"),
        _s("brazier", "prop", "brazier", "fire bowl", "fire pit", "torch", "torches"),
        _s("chest", "prop", "chest", "treasure chest", "treasure", "coffer", "trunk"),
        _s("fence", "prop", "fence", "picket fence", "palisade", "fencing", "paddock"),
        _s("banner", "prop", "banner", "banners", "flag", "flags", "pennant", "standard"),
        _s("obelisk", "prop", "obelisk", "monolith", "standing stone", "menhir", "stele"),
        _s("campfire", "prop", "campfire", "bonfire", "camp fire", "fire"),
        _s("gravestone", "prop", "gravestone", "tombstone", "grave", "cemetery", "graveyard", "headstone"),
        _s("table", "prop", "table", "tables", "desk", "workbench", "tavern table"),
        # sci-fi
        _s("wall_panel", "scifi", "wall panel", "panel", "bulkhead", "hull plating", "paneling"),
        _s("door", "scifi", "door", "hatch", "airlock", "doorway", "blast door"),
        _s("console", "scifi", "console", "terminal", "control panel", "computer", "control room", "screen"),
        _s("pipe_run", "scifi", "pipes", "pipe", "pipeline", "conduit", "ducts", "plumbing"),
        _s("antenna", "scifi", "antenna", "radio mast", "satellite dish", "dish", "radar", "transmitter"),
        _s("container", "scifi", "shipping container", "container", "cargo container", "containers"),
    )
}

# Environments: the place around the kit. "open" (outdoors, no particular medium) is the default.
ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    "open": (),
    "underwater": ("underwater", "undersea", "under the sea", "seabed", "sea floor", "ocean floor", "sunken",
                   "submerged", "deep sea", "abyss", "ocean depths", "aquatic"),
    "snow": ("snow", "snowy", "winter", "wintry", "frozen", "icy", "ice", "arctic", "blizzard", "frost", "frosty",
             "glacier", "tundra", "snowfall"),
    "desert": ("desert", "dunes", "sand dunes", "sandy", "arid", "sahara", "oasis", "badlands", "canyon"),
    "forest": ("forest", "woods", "woodland", "jungle", "rainforest", "grove", "forest canopy", "thicket"),
    "interior": ("interior", "inside", "indoor", "indoors", "room", "hall", "chamber", "crypt", "dungeon",
                 "cellar", "corridor", "library", "throne room", "vault", "cave", "basement"),
    "space": ("outer space", "space", "space station", "orbit", "orbital", "asteroid", "spaceship", "starship",
              "moon base", "nebula", "galaxy", "lunar"),
}
# Words that name a weather outright (the latent map's own guess stands for the rest: encoder/weather.py).
WEATHER_WORDS: dict[str, tuple[str, ...]] = {
    "rain": ("rain", "rainy", "raining", "rainfall", "drizzle", "drizzly", "downpour", "showers", "monsoon"),
    "storm": ("storm", "stormy", "thunder", "thunderstorm", "lightning", "hurricane", "gale", "tempest", "typhoon"),
    "snow": ("snow", "snowy", "snowing", "snowfall", "blizzard", "sleet", "flurries", "snowstorm"),
    "fog": ("fog", "foggy", "mist", "misty", "haze", "hazy", "smog"),
    "dust": ("dust", "dusty", "sandstorm", "duststorm"),
    "cloudy": ("cloudy", "overcast", "clouds", "grey sky", "gray sky"),
}
# When a prompt names several, the one that changes the picture most wins (snow over forest, say).
ENVIRONMENT_PRECEDENCE = ("underwater", "space", "interior", "snow", "desert", "forest", "open")

MAX_SUBJECTS = 8  # a kit holds up to 10 pieces: the wall and floor modules and eight subjects


def vocabulary_digest() -> str:
    """Short hash of every tag: part of the subject map's version, so a new synonym changes pack ids."""
    text = repr(sorted((s.name, s.category, s.tags) for s in SUBJECTS.values())) + repr(sorted(ENVIRONMENTS.items()))
    text += repr(sorted(WEATHER_WORDS.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:8]
