"""Prompt fidelity: the nouns of a prompt pick the kit's pieces (through the real MiniLM encoder), its
place picks an environment, the first-named subject is the hero of the layout, and the environment
shows in the concept image. Latent v1 (packs made before subjects) keeps reading and planning as before."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine_server.decoders.mesh.kit import plan_kit
from engine_server.decoders.mesh.styles import STYLES
from engine_server.decoders.scene.look import make_look
from engine_server.encoder import Encoder, LegacyEncoder, get_encoder
from engine_server.errors import InvalidArgument
from engine_server.latent import Latent
from tests.latent_factory import NEUTRAL, make_latent

# prompt -> {noun in the prompt: what in the pack shows it}; a target is a recipe name (a kit piece),
# "env:<environment>" or "weather:<weather>" (a look). Any one listed target must be in the pack.
TABLE: dict[str, dict[str, set[str]]] = {
    "a sunny medieval village square at noon": {"village": {"hut"}, "square": {"fountain"}},
    "an underwater temple lit by bioluminescent coral": {"underwater": {"env:underwater"}, "temple": {"temple"},
                                                          "coral": {"coral"}},
    "a snowy pine forest cabin at night": {"snowy": {"env:snow"}, "pine": {"pine"}, "forest": {"pine", "env:forest"},
                                           "cabin": {"cabin"}},
    "abandoned cyberpunk marketplace at dusk with rain": {"marketplace": {"stall"}, "rain": {"weather:rain",
                                                                                             "weather:storm"}},
    "a pagoda in a bamboo grove": {"pagoda": {"shrine"}, "grove": {"env:forest"}},
    "a swiss chalet in winter": {"chalet": {"cabin"}, "winter": {"env:snow"}},
    "a yacht moored at a wooden pier": {"yacht": {"boat"}, "pier": {"dock"}},
    "a desert oasis with palms and a caravan": {"desert": {"env:desert"}, "oasis": {"env:desert", "palm"},
                                                "palms": {"palm"}, "caravan": {"cart"}},
    "spruce trees on a frozen tundra": {"spruce": {"pine"}, "tundra": {"env:snow"}},
    "a sunken galleon on the sea floor": {"galleon": {"ship_hull"}, "sea floor": {"env:underwater"}},
    "a lighthouse on a rocky cliff": {"lighthouse": {"lighthouse"}, "cliff": {"cliff"}},
    "a space station corridor with blinking consoles": {"space station": {"env:space"},
                                                        "corridor": {"env:space", "env:interior"},
                                                        "consoles": {"console"}},
    "a haunted graveyard with crooked tombstones": {"graveyard": {"gravestone"}, "tombstones": {"gravestone"}},
    "a cozy tavern interior with barrels and tables": {"tavern": {"table", "env:interior"}, "barrels": {"barrel"},
                                                       "tables": {"table"}, "interior": {"env:interior"}},
    "a crystal cave glowing purple": {"crystal": {"crystal"}, "cave": {"env:interior"}},
    "a toadstool ring in an enchanted forest": {"toadstool": {"mushroom"}, "forest": {"env:forest"}},
    "ruins of a greek temple with broken columns": {"ruins": {"broken_column"}, "temple": {"temple"},
                                                    "broken columns": {"broken_column"}},
    "a japanese shrine with a torii gate and lanterns": {"shrine": {"shrine"}, "torii gate": {"torii"},
                                                         "lanterns": {"lantern"}},
    "a cactus desert at sunset": {"cactus": {"cactus"}, "desert": {"env:desert"}},
    "a viking longship beside a wooden dock": {"longship": {"ship_hull"}, "dock": {"dock"}},
    "an old oak tree beside a fence": {"oak": {"oak"}, "fence": {"fence"}},
    "a birch grove in autumn": {"birch": {"birch"}, "grove": {"env:forest"}},
    "a windmill on a tulip farm": {"windmill": {"windmill"}, "farm": {"windmill"}},
    "a stone bridge in a forest": {"bridge": {"bridge"}, "forest": {"env:forest"}},
    "a castle gate with banners": {"castle": {"castle_wall"}, "gate": {"gate"}, "banners": {"banner"}},
    "a watchtower on the battlements": {"watchtower": {"tower"}, "battlements": {"castle_wall"}},
    "a nomad tent camp under the stars": {"tent": {"tent"}, "camp": {"tent"}},
    "a wishing well in a cottage garden": {"well": {"well"}, "cottage": {"hut"}, "garden": {"planter"}},
    "a fishing boat by a wooden dock": {"boat": {"boat"}, "dock": {"dock"}},
    "a merchant cart beside a street lamp": {"cart": {"cart"}, "street lamp": {"lamp_post"}},
    "a kelp forest on the seabed": {"kelp": {"kelp"}, "seabed": {"env:underwater"}},
    "a coral reef with seaweed": {"coral reef": {"coral"}, "seaweed": {"kelp"}},
    "a treasure chest in a dungeon": {"chest": {"chest"}, "dungeon": {"env:interior"}},
    "a bonfire in the woods": {"bonfire": {"campfire"}, "woods": {"env:forest"}},
    "a marble statue in a plaza fountain": {"statue": {"statue"}, "plaza": {"fountain"}, "fountain": {"fountain"}},
    "an obelisk in the sand dunes": {"obelisk": {"obelisk"}, "dunes": {"env:desert"}},
    "rusty shipping containers at dawn": {"containers": {"container"}},
    "a radar antenna on a mountain": {"antenna": {"antenna"}, "mountain": {"cliff"}},
    "a control room with pipes and terminals": {"control room": {"console", "env:interior"}, "pipes": {"pipe_run"},
                                                "terminals": {"console"}},
    "a blast door on a spaceship": {"blast door": {"door"}, "spaceship": {"env:space"}},
    "a picket fence around a farmhouse": {"fence": {"fence"}, "farmhouse": {"hut"}},
    "a stone archway with steps": {"archway": {"archway"}, "steps": {"stairs"}},
    "a natural rock arch in the canyon": {"rock arch": {"rock_arch"}, "canyon": {"env:desert"}},
    "a palm tree beside a hut at sunset": {"palm": {"palm"}, "hut": {"hut"}},
    "a brazier in a throne room": {"brazier": {"brazier"}, "throne room": {"env:interior"}},
}
NO_SUBJECT = ("a quiet lullaby", "epic orchestral battle music", "warm nostalgic summer afternoon")


@pytest.fixture(scope="module")
def enc() -> Encoder:
    return get_encoder()


def _pack_shows(latent: Latent) -> set[str]:
    _, items = plan_kit(latent, 3, 6)
    return ({i.recipe.archetype for i in items} | {f"env:{latent.environment}", f"weather:{latent.weather}"})


def test_the_table_is_large_enough() -> None:
    assert len(TABLE) >= 40


@pytest.mark.parametrize("prompt", sorted(TABLE))
def test_every_subject_noun_maps_to_an_asset_or_a_look(enc: Encoder, prompt: str) -> None:
    latent = enc.encode(prompt, 3)
    shows = _pack_shows(latent)
    for noun, targets in TABLE[prompt].items():
        assert targets & shows, f"{prompt!r}: {noun!r} should give one of {sorted(targets)}; the pack shows " \
                                f"{sorted(shows)} (subjects {latent.subjects})"
    _, items = plan_kit(latent, 3, 6)
    for item in items:  # kit.json's record: each prompt-picked piece names words that are in the prompt
        if item.source == "prompt":
            assert all(w in prompt.lower() for part in item.words.split(", ") for w in part.split()), item
    heroes = [i for i in items if i.hero]
    assert len(heroes) == 1 and heroes[0].recipe.archetype == latent.subjects[0][0]


def test_synonyms_reach_their_recipe_through_the_embedding(enc: Encoder) -> None:
    assert enc.subjects("a pagoda at dusk").subjects[0][0] == "shrine"
    assert enc.subjects("a chalet").subjects[0][0] == "cabin"
    # words that are not tags: the embedding alone finds the recipe
    assert enc.subjects("a reef").subjects[0][0] == "coral"
    assert enc.subjects("a luxury yacht").subjects[0][0] == "boat"


def test_the_head_noun_is_the_hero(enc: Encoder) -> None:
    assert [n for n, _ in enc.encode("a snowy pine forest cabin at night", 0).subjects] == ["cabin", "pine"]


@pytest.mark.parametrize("prompt", NO_SUBJECT)
def test_a_prompt_with_no_known_subject_gets_its_styles_kit(enc: Encoder, prompt: str) -> None:
    latent = enc.encode(prompt, 3)
    assert latent.subjects == () and latent.environment == "open" and latent.version == 1
    style, items = plan_kit(latent, 3, 6)
    assert [i.recipe.archetype for i in items][:2] == ["wall", "floor"]
    assert [i.recipe.archetype for i in items][2:6] == list(style.core)
    assert "subjects" not in latent.to_dict() and "environment" not in latent.to_dict()


# prompt -> the weather it shows: named weather is shown, a guess from association is not (the latent map
# alone puts snow on "a cabin in the woods" and on a tavern's interior), sheltered places have none
WEATHER = {
    "warm autumn forest cabin at sunset": "clear",
    "a cabin in the woods": "clear",
    "a cozy tavern interior on a stormy night": "clear",
    "an underwater temple lit by bioluminescent coral": "clear",
    "a drizzly afternoon in the old port": "rain",
    "dark cyberpunk alley at night in heavy rain": "rain",
    "overcast industrial harbour": "cloudy",
    "a snowy pine forest cabin at night": "snow",
    "frozen lake under the aurora": "snow",
    "foggy medieval graveyard at dawn": "fog",
    "a tornado tearing through a town": "storm",
}


@pytest.mark.parametrize("prompt", sorted(WEATHER))
def test_the_weather_shown_is_the_weather_named(enc: Encoder, prompt: str) -> None:
    latent = enc.encode(prompt, 3)
    assert latent.weather == WEATHER[prompt], (latent.weather, latent.weather_intensity, latent.environment)
    if latent.weather == "clear":
        assert latent.weather_intensity <= 0.2
    else:
        assert latent.weather_intensity >= 0.3, "a weather shown is visible"


def test_pinned_subjects_pick_the_kit_and_unknown_names_are_refused() -> None:
    latent = make_latent(geometry_style="natural").with_fields({"subjects": ["cabin", "pine"]})
    _, items = plan_kit(latent, 1, 6)
    assert [(i.recipe.archetype, i.source) for i in items[2:4]] == [("cabin", "pin"), ("pine", "pin")]
    assert "tree" not in [i.recipe.archetype for i in items]  # the pine takes the leafy tree's place
    with pytest.raises(InvalidArgument, match="Unknown subject"):
        make_latent().with_fields({"subjects": ["spaceship_engine"]})
    with pytest.raises(InvalidArgument, match="list of subject names"):
        make_latent().with_fields({"subjects": "cabin"})
    with pytest.raises(InvalidArgument, match="environment"):
        make_latent().with_fields({"environment": "moon"})


def test_v1_latents_read_and_plan_as_before() -> None:
    old = {k: v for k, v in NEUTRAL.items() if k not in ("subjects", "environment")}
    latent = Latent.from_dict({**old, "geometry_style": "medieval"})
    assert latent.version == 1 and set(latent.to_dict()) == set(old)
    style, items = plan_kit(latent, 9, 6)
    assert all(i.source == "" and not i.hero for i in items)
    assert latent.to_dict() == Latent.from_dict(latent.to_dict()).to_dict()
    assert make_look(latent).environment == "open" and make_look(latent).caustics == 0.0
    assert STYLES["medieval"] is style
    v2 = latent.with_fields({"environment": "snow"})
    assert v2.version == 2 and v2.to_dict()["environment"] == "snow"
    assert Latent.from_dict(v2.to_dict()) == v2


def test_legacy_encoder_replays_packs_made_before_the_subject_map(enc: Encoder) -> None:
    legacy = LegacyEncoder(enc)
    assert "subject_map" in enc.versions and "subject_map" not in legacy.versions
    old = legacy.encode("an underwater temple lit by bioluminescent coral", 3)
    new = enc.encode("an underwater temple lit by bioluminescent coral", 3)
    assert old.version == 1 and new.version == 2
    assert old == new.with_fields({"subjects": [], "environment": "open"})


def test_environment_looks_change_the_air_and_the_ground() -> None:
    base = make_latent(geometry_style="organic", time_of_day="noon")
    open_look = make_look(base)
    water = make_look(base.with_fields({"environment": "underwater"}))
    assert water.caustics > 0 and water.precipitation and water.fog_density > open_look.fog_density
    assert water.fog_color[2] > water.fog_color[0] and water.sky_zenith[2] > water.sky_zenith[0]
    snow = make_look(base.with_fields({"environment": "snow"}))
    assert snow.frost > 0 and snow.snow_cover > 0.5 and snow.precipitation == "snow"
    desert = make_look(base.with_fields({"environment": "desert"}))
    assert desert.ground_color[0] > desert.ground_color[2] and desert.precipitation
    space = make_look(base.with_fields({"environment": "space"}))
    assert space.stars and space.fog_density == 0.0
    interior = make_look(base.with_fields({"environment": "interior"}))
    assert interior.practical == 1.0 and interior.sky_strength < open_look.sky_strength


def test_the_named_hero_leads_the_layout() -> None:
    from engine_server.decoders.scene.camera import choose_framing
    from engine_server.decoders.scene.layout import KitPiece, plan_layout

    pieces = [KitPiece("wall_module", "wall", "", (3.0, 0.3), 3.0, True),
              KitPiece("floor_tile", "floor", "", (2.0, 2.0), 0.1, True),
              KitPiece("market_stall", "stall", "", (2.5, 1.5), 2.5),
              KitPiece("well", "well", "", (1.6, 1.6), 2.8, hero=True),
              KitPiece("pine_tree", "pine", "", (3.0, 3.0), 6.0), KitPiece("barrel", "barrel", "", (0.6, 0.6), 0.9)]
    lat = make_latent()
    rng = np.random.default_rng(0)
    framing = choose_framing(lat, 16 / 9, 3.0, rng, None, None, 2.8)
    layout = plan_layout(pieces, framing, np.random.default_rng(1))
    assert layout.hero is not None and layout.hero.piece == "well"  # not the bigger stall
    roles: dict[str, set[str]] = {}
    for p in layout.placements:
        roles.setdefault(p.piece, set()).add(p.role)
    assert "subject" in roles.get("pine_tree", set()) and "subject" in roles.get("market_stall", set())


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two tiny drafts of one latent, in the open and under water (the kit made on the side)."""
    from PIL import Image

    from engine_server.decoders.base import DecodeContext, DecodeRequest
    from engine_server.decoders.image import ImageDecoder

    base = make_latent(geometry_style="architectural", time_of_day="noon", subjects=["temple", "coral"])
    out = {}
    for env in ("open", "underwater"):
        d = tmp_path_factory.mktemp(env)
        assets = ImageDecoder().decode(DecodeRequest(base.with_fields({"environment": env}), 4, quality="draft",
                                                     options={"width": 192, "height": 108}),
                                       DecodeContext(d, lambda f, m: None, lambda: False))
        out[env] = (np.asarray(Image.open(d / assets[0].path).convert("RGB"), dtype=np.float64), assets[0].meta)
    return out


def test_the_picture_shows_the_environment_and_the_hero(renders: dict[str, Any]) -> None:
    open_rgb, open_meta = renders["open"]
    water_rgb, water_meta = renders["underwater"]
    # under water the picture turns to the water's blue-green: red falls against green and blue
    def red_share(rgb: np.ndarray) -> float:
        return float(rgb[..., 0].mean() / max(rgb[..., 1:].mean(), 1e-6))

    assert red_share(water_rgb) < red_share(open_rgb) - 0.1, (red_share(water_rgb), red_share(open_rgb))
    for meta in (open_meta, water_meta):
        assert meta["kit"]["pieces"].get("temple", 0) >= 1 and meta["kit"]["pieces"].get("coral", 0) >= 1
