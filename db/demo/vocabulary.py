"""The demo's words: checklist sections, items and their typical defects, notes, sites, people."""

from __future__ import annotations

# Section -> (checklist item title, what a failure of it typically is), in template order.
TEMPLATE: dict[str, tuple[tuple[str, str], ...]] = {
    "Site and Drainage": (
        ("Site grading slopes away from building", "Ground falls towards the north wall"),
        ("Surface drains clear of debris", "Silt and leaves in the surface drain"),
        ("Stormwater pits and grates intact", "Grate missing from stormwater pit"),
        ("Retaining walls plumb, no bulging", "Retaining wall leaning outwards"),
        ("Paving free of trip hazards", "Lifted paver at the entrance path, 25 mm lip"),
        ("Fences and gates secure", "Gate latch broken"),
        ("Trees clear of roof and walls", "Branches touching the roof on the east side"),
        ("Exterior lighting operational", "Two path lights not working"),
        ("Parking bays marked and drained", "Ponding water in bays 3 to 5"),
    ),
    "Exterior": (
        ("Wall cladding intact, no cracks", "Vertical crack about 3 mm wide above the window"),
        ("Mortar joints sound", "Mortar eroded and sandy on the west wall"),
        ("Weep holes clear", "Weep holes blocked by mortar droppings"),
        ("Sealant around window frames", "Sealant perished and split"),
        ("Flashings at wall penetrations", "No flashing above the vent penetration"),
        ("Exterior doors close and latch", "Rear door does not latch"),
        ("Balcony balustrades secure", "Balustrade post loose at base"),
        ("Paint and coatings in good condition", "Paint flaking on the south elevation"),
        ("Street number visible from road", "Street number missing"),
    ),
    "Roof": (
        ("Roof covering intact, no slipped tiles", "Two cracked tiles near the ridge"),
        ("Ridge capping bedded and pointed", "Ridge pointing cracked and loose"),
        ("Flashings at chimneys and vents", "Flashing lifted at the vent pipe"),
        ("Gutters and downspouts secured", "Gutter bracket detached at the corner"),
        ("Gutters clear of debris", "Leaves blocking the gutter outlet"),
        ("Roof drainage outlets clear", "Outlet blocked, water ponding on the roof"),
        ("Skylights sealed", "Stain below the skylight, seal failed"),
        ("Roof access hatch secure", "Hatch lid does not lock"),
        ("Roof anchors certified", "Anchor certification expired"),
        ("Roof space ventilation adequate", "Condensation on the roof sheeting"),
        ("Ceiling insulation in place", "Insulation batts displaced above the hall"),
    ),
    "Structure": (
        ("Foundations free of cracking", "Stepped cracking in brickwork above the footing"),
        ("No signs of settlement", "Floor falls 15 mm across the living room"),
        ("Load-bearing walls unaltered", "Opening cut in a load-bearing wall, no lintel seen"),
        ("Beams and columns free of corrosion", "Rust staining on the steel beam"),
        ("Concrete slab free of spalling", "Spalling concrete exposing reinforcement"),
        ("Floor framing sound, no deflection", "Noticeable floor bounce in the hallway"),
        ("Expansion joints in good condition", "Joint filler missing"),
        ("Subfloor ventilation clear", "Vents blocked by garden beds"),
        ("No termite activity", "Mud leads on the subfloor pier"),
    ),
    "Electrical": (
        ("Main switchboard labelled", "Switchboard circuits unlabelled"),
        ("Circuit breakers correctly rated", "20 A breaker on a 1.5 mm² lighting circuit"),
        ("Earthing and bonding present", "No bonding to the water pipe"),
        ("GFCI protection in wet areas", "No GFCI on the bathroom outlet"),
        ("RCD test button trips", "RCD did not trip when tested"),
        ("No exposed wiring", "Exposed conductor behind the light switch"),
        ("Outlets secure and undamaged", "Cracked outlet cover in the kitchen"),
        ("Light fittings operational", "Stairwell light not working"),
        ("Emergency lighting tested", "Emergency light failed the 90-minute test"),
        ("Meter box accessible", "Meter box blocked by stored timber"),
    ),
    "Plumbing": (
        ("Shut-off valves accessible", "Main valve behind a fixed panel"),
        ("Water pressure within range", "Static pressure 720 kPa, above range"),
        ("Backflow prevention device tested", "No test tag on the backflow device"),
        ("Water heater relief valve discharges safely", "Relief valve drain line missing"),
        ("Hot water at or below 50 °C at outlets", "Hot water measured at 62 °C at the basin"),
        ("No leaks under sinks", "Slow leak at the trap under the kitchen sink"),
        ("Toilets flush and refill correctly", "Cistern runs on after refill"),
        ("Drains flow freely", "Shower drain slow, water pools"),
        ("Pipe insulation in place", "Uninsulated hot pipe in the roof space"),
    ),
    "HVAC": (
        ("Air filters clean", "Filters heavily clogged"),
        ("Thermostat operational", "Thermostat display blank"),
        ("Supply air temperature within range", "Supply air only 4 °C below return"),
        ("Ductwork sealed and insulated", "Duct joint open in the ceiling space"),
        ("Condensate drains clear", "Condensate line dripping into the ceiling"),
        ("Refrigerant lines insulated", "Insulation missing on the suction line"),
        ("Outdoor unit clear of obstructions", "Outdoor unit boxed in by a fence"),
        ("Exhaust fans vent to exterior", "Exhaust fan discharges into the roof space"),
        ("Boiler service tag current", "Service tag expired"),
    ),
    "Interior": (
        ("Walls and ceilings free of stains", "Water stain on the ceiling below the bathroom"),
        ("No evidence of mould", "Mould on the bedroom window reveal"),
        ("Floors level, coverings secure", "Loose carpet at the stair nosing"),
        ("Doors operate freely", "Door binds on its frame"),
        ("Windows open and lock", "Window lock broken in bedroom 1"),
        ("Stair handrails secure", "Handrail loose at the top landing"),
        ("Wet-area waterproofing intact", "Grout cracked along the shower hob"),
        ("Kitchen extraction operational", "Range hood fan not working"),
        ("Ceiling fans secure", "Fan wobbles on high speed"),
    ),
    "Safety": (
        ("Smoke alarms present on each level", "Smoke alarm missing on the upper level"),
        ("Carbon monoxide detectors installed", "No CO detector near the gas heater"),
        ("Balustrade height at least 1 m", "Balustrade only 850 mm high"),
        ("Glazing in doors is safety glass", "No safety glass mark on the sidelight"),
        ("Window restrictors above ground floor", "Window restrictor missing in bedroom 2"),
        ("Trip hazards removed", "Extension lead across the corridor"),
        ("First aid kit stocked", "First aid kit empty"),
        ("Hazardous materials register available", "No asbestos register on site"),
        ("Pool barrier compliant", "Pool gate does not self-close"),
    ),
    "Fire Protection": (
        ("Fire alarm panel shows no faults", "Panel shows a zone 3 fault"),
        ("Fire extinguishers tagged and in date", "Extinguisher tag expired"),
        ("Fire blanket in kitchen", "Fire blanket missing"),
        ("Hose reels accessible", "Hose reel blocked by pallets"),
        ("Sprinkler heads unobstructed", "Sprinkler head painted over"),
        ("Fire doors self-close and latch", "Fire door wedged open"),
        ("Penetrations in fire walls sealed", "Unsealed cable penetration in the fire wall"),
        ("Exit signs illuminated", "Exit sign not illuminated"),
        ("Evacuation plan displayed", "Evacuation plan out of date"),
    ),
    "Accessibility": (
        ("Accessible parking space marked", "Accessible parking sign missing"),
        ("Clear path of travel to entrance", "Path of travel obstructed by bins"),
        ("Ramp gradient within limits", "Ramp gradient steeper than 1:14"),
        ("Handrails on both sides of ramp", "Handrail on one side only"),
        ("Door widths at least 850 mm", "Toilet door clear width 760 mm"),
        ("Accessible toilet grab rails secure", "Grab rail loose"),
        ("Tactile indicators at stairs", "Tactile indicators worn away"),
        ("Lift buttons within reach", "Top button 1,450 mm above floor"),
        ("Braille signage at lift lobby", "No braille on the lobby sign"),
    ),
    "Elevators": (
        ("Lift certificate displayed", "Certificate expired last month"),
        ("Car levelling accurate", "Car stops about 20 mm below the landing"),
        ("Door sensors operational", "Door closed on the test object"),
        ("Emergency phone connected", "Emergency phone does not answer"),
        ("Car lighting operational", "One car light out"),
        ("Machine room secure and ventilated", "Machine room door unlocked"),
        ("Pit dry and clean", "Water in the lift pit"),
        ("Maintenance log up to date", "No entries for three months"),
    ),
}
CHECKLIST: dict[str, tuple[str, ...]] = {
    section: tuple(title for title, _ in items) for section, items in TEMPLATE.items()
}
DEFECTS = {title: defect for items in TEMPLATE.values() for title, defect in items}
SECTIONS: tuple[str, ...] = tuple(CHECKLIST)
# Every checklist has these; the others are picked per building.
CORE_SECTIONS = ("Exterior", "Roof", "Structure", "Electrical", "Safety")

ACTIONS = (
    "Rectify within 14 days.",
    "Contractor to quote.",
    "Re-inspect at next visit.",
    "Urgent: made safe on site, repair required.",
    "Owner notified on site.",
    "Refer to licensed trade.",
)
PASS_NOTES = (
    "Satisfactory.",
    "Good condition.",
    "Recently serviced.",
    "Minor wear; monitor at next inspection.",
    "Checked with owner present.",
    "Photos taken for the record.",
)
NA_NOTES = (
    "Not present at this property.",
    "No access on the day.",
    "Not applicable to this building type.",
    "Covered by a separate specialist report.",
)
PENDING_NOTES = (
    "Awaiting access from site manager.",
    "Return with a ladder.",
    "Check after rain.",
)
PHOTO_VIEWS = (
    "overview",
    "detail",
    "close-up",
    "north elevation",
    "south elevation",
    "east side",
    "west side",
    "from ground level",
    "wide angle",
    "label",
)
# Large-inspection titles repeat the template per location: "<title> — Tower A".
LOCATION_SEP = " — "
LARGE_LOCATIONS = (
    "Tower A",
    "Tower B",
    "Podium",
    "Basement B1",
    "Basement B2",
    "Level 12",
    "Plant room",
    "Roof terrace",
)
SITE_PREFIXES = (
    "Maple Court",
    "Riverside",
    "Oakwood",
    "Granite Hill",
    "Cedar Park",
    "Kingsway",
    "Northgate",
    "Willow Bend",
    "Bayview",
    "Station Road",
    "Elm Street",
    "Lakeside",
)
SITE_KINDS = (
    "Apartments",
    "Primary School",
    "Medical Centre",
    "Business Park",
    "Community Hall",
    "Warehouse",
    "Public Library",
    "Office Tower",
    "Sports Centre",
    "Residences",
    "Retail Arcade",
    "Care Home",
)
STREETS = (
    "Harbour",
    "Cedar",
    "Main",
    "Pine",
    "Jefferson",
    "Lincoln",
    "Ridge",
    "Mill",
    "Orchard",
    "Franklin",
    "Church",
    "Spring",
    "Union",
    "Hillcrest",
)
STREET_TYPES = ("Street", "Avenue", "Road", "Boulevard", "Lane", "Drive", "Court")
CITIES = (
    ("Portland, OR", "972"),
    ("Springfield, IL", "627"),
    ("Madison, WI", "537"),
    ("Burlington, VT", "054"),
    ("Boise, ID", "837"),
    ("Asheville, NC", "288"),
)
INSPECTORS = (
    "Maria Alvarez",
    "James O'Connor",
    "Priya Natarajan",
    "Tomasz Nowak",
    "Aisha Bello",
    "Daniel Kim",
    "Sophie Laurent",
    "Ethan Brooks",
)
