"""Name lists for the demo city: given names with nicknames, surnames with a skew.

Plain data, no Django. Names are listed most common first; `weights` turns the
rank into a Zipf-like frequency so that a few surnames are very common and most
are rare, as in a real register.
"""

from __future__ import annotations

from itertools import accumulate

# Most common first. Mixed origins, as in a real city; a few with accents or
# apostrophes so that folding and phonetic keys get exercised.
MALE_GIVEN = """
James John William David Robert Michael Thomas Richard Christopher Daniel
Mohammed Joseph Matthew Anthony Andrew Mark Paul Steven Peter George
Oliver Harry Jack Charlie Samuel Benjamin Alexander Edward Henry Jacob
Joshua Luke Adam Ryan Liam Noah Oscar Leo Arthur Alfie
Muhammad Ali Omar Hassan Ibrahim Yusuf Ahmed Bilal Imran Tariq
Kevin Gary Stephen Simon Ian Neil Martin Jonathan Nicholas Philip
Timothy Patrick Sean Kieran Connor Declan Ciaran Eoin Padraig Niall
Raj Sanjay Arjun Vikram Rohan Amir Karim Tomasz Piotr Krzysztof
Jakub Marek Andrei Mihai Stefan Luca Marco Giovanni Francesco Mateo
José Carlos Juan Diego Miguel Pablo Javier Luis Antonio Manuel
Kwame Kofi Chidi Emeka Tunde Femi Olu Jamal Tyrone Marcus
Frederick Albert Ernest Harold Walter Stanley Leonard Raymond Kenneth Dennis
Reginald Cyril Norman Clifford Herbert Bernard Gerald Roland Vincent Lawrence
Nathan Ethan Dylan Tyler Jordan Callum Jamie Lewis Aaron Reece
Theo Freddie Archie Reuben Isaac Elliot Felix Hugo Jasper Rupert
Zain Ayaan Rayan Hamza Idris Musa Dawud Sulaiman Yahya Zakariya
Wei Jun Hao Minh Duc Hiroshi Kenji Sung Jin Ravi
""".split()

FEMALE_GIVEN = """
Mary Elizabeth Sarah Margaret Susan Patricia Jennifer Catherine Emma Rebecca
Olivia Amelia Isla Ava Mia Sophie Grace Lily Emily Charlotte
Jessica Hannah Lucy Chloe Ella Ellie Holly Megan Laura Rachel
Fatima Aisha Maryam Zainab Khadija Amina Noor Hafsa Samira Yasmin
Karen Julie Helen Deborah Alison Nicola Joanne Claire Lisa Michelle
Victoria Alexandra Christine Jacqueline Valerie Dorothy Barbara Joan Patience Constance
Siobhan Aoife Niamh Ciara Roisin Orla Sinead Maeve Bridget Eileen
Priya Anjali Sunita Deepa Kavita Nisha Pooja Meera Shreya Divya
Agnieszka Katarzyna Magdalena Joanna Anna Ewa Monika Alina Elena Ioana
Maria Carmen Lucía Sofía Isabel Ana Rosa Beatriz Pilar Marta
Abena Ama Adwoa Chioma Ngozi Folake Yetunde Imani Keisha Tanisha
Edith Florence Mabel Ethel Gladys Doris Irene Winifred Vera Hilda
Phyllis Muriel Audrey Brenda Shirley Maureen Pauline Sandra Carol Janet
Jade Chelsea Courtney Bethany Abigail Natalie Danielle Gemma Kirsty Leanne
Freya Poppy Evie Daisy Phoebe Matilda Harriet Imogen Rosie Zoë
Mei Ling Hui Thi Lan Yuki Akiko Hana Ji-woo Min-seo
Theodora Josephine Frances Dorothea Henrietta Wilhelmina Antonia Georgina Roberta Louisa
""".split()

# Formal name -> the short forms people give on forms and at the counter.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Jack", "Johnny"),
    "William": ("Bill", "Will", "Billy", "Liam"),
    "David": ("Dave", "Davy"),
    "Robert": ("Bob", "Rob", "Bobby", "Robbie"),
    "Michael": ("Mike", "Mick", "Mikey"),
    "Thomas": ("Tom", "Tommy"),
    "Richard": ("Rich", "Rick", "Dick"),
    "Christopher": ("Chris", "Kit"),
    "Daniel": ("Dan", "Danny"),
    "Mohammed": ("Mo",),
    "Muhammad": ("Mo",),
    "Joseph": ("Joe", "Joey"),
    "Matthew": ("Matt",),
    "Anthony": ("Tony", "Ant"),
    "Andrew": ("Andy", "Drew"),
    "Steven": ("Steve",),
    "Stephen": ("Steve",),
    "Peter": ("Pete",),
    "Oliver": ("Ollie",),
    "Harry": ("Haz",),
    "Charlie": ("Chaz",),
    "Samuel": ("Sam", "Sammy"),
    "Benjamin": ("Ben", "Benny"),
    "Alexander": ("Alex", "Sandy", "Xander"),
    "Edward": ("Ed", "Eddie", "Ted", "Ned"),
    "Henry": ("Hal", "Harry"),
    "Jacob": ("Jake",),
    "Joshua": ("Josh",),
    "Nicholas": ("Nick", "Nicky"),
    "Philip": ("Phil",),
    "Timothy": ("Tim", "Timmy"),
    "Patrick": ("Pat", "Paddy"),
    "Jonathan": ("Jon", "Jonny"),
    "Kenneth": ("Ken", "Kenny"),
    "Raymond": ("Ray",),
    "Leonard": ("Len", "Lenny"),
    "Frederick": ("Fred", "Freddie"),
    "Albert": ("Bert", "Al"),
    "Ernest": ("Ernie",),
    "Harold": ("Harry", "Hal"),
    "Walter": ("Walt", "Wally"),
    "Stanley": ("Stan",),
    "Reginald": ("Reg", "Reggie"),
    "Norman": ("Norm",),
    "Herbert": ("Bert", "Herb"),
    "Bernard": ("Bernie",),
    "Gerald": ("Gerry",),
    "Vincent": ("Vince", "Vinnie"),
    "Lawrence": ("Larry", "Laurie"),
    "Nathan": ("Nate", "Nat"),
    "Callum": ("Cal",),
    "Theo": ("Ted",),
    "Isaac": ("Ike", "Zac"),
    "Marcus": ("Marc",),
    "Gary": ("Gaz",),
    "Krzysztof": ("Krzys",),
    "Tomasz": ("Tomek",),
    "Piotr": ("Piotrek",),
    "Jakub": ("Kuba",),
    "José": ("Pepe",),
    "Francesco": ("Franco",),
    "Giovanni": ("Gianni",),
    "Javier": ("Javi",),
    "Manuel": ("Manolo",),
    "Antonio": ("Toni",),
    "Ibrahim": ("Ibby",),
    "Zakariya": ("Zak",),
    "Sulaiman": ("Sully",),
    "Vikram": ("Vik",),
    "Clifford": ("Cliff",),
    "Rupert": ("Rupe",),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty", "Eliza"),
    "Margaret": ("Peggy", "Maggie", "Meg", "Madge"),
    "Mary": ("Molly", "Polly"),
    "Sarah": ("Sally", "Sadie"),
    "Susan": ("Sue", "Suzy"),
    "Patricia": ("Pat", "Trish", "Patsy"),
    "Jennifer": ("Jen", "Jenny"),
    "Catherine": ("Kate", "Cathy", "Katie", "Kath"),
    "Rebecca": ("Becky", "Becca"),
    "Olivia": ("Liv", "Livvy"),
    "Amelia": ("Millie",),
    "Sophie": ("Soph",),
    "Charlotte": ("Charlie", "Lottie"),
    "Jessica": ("Jess", "Jessie"),
    "Hannah": ("Han",),
    "Megan": ("Meg",),
    "Deborah": ("Debbie", "Deb"),
    "Nicola": ("Nicky", "Nic"),
    "Joanne": ("Jo",),
    "Victoria": ("Vicky", "Tori"),
    "Alexandra": ("Alex", "Lexi", "Sandra"),
    "Christine": ("Chris", "Chrissie"),
    "Jacqueline": ("Jackie",),
    "Valerie": ("Val",),
    "Dorothy": ("Dot", "Dotty", "Dolly"),
    "Barbara": ("Babs", "Barb"),
    "Abigail": ("Abby", "Gail"),
    "Natalie": ("Nat",),
    "Danielle": ("Dani",),
    "Bethany": ("Beth",),
    "Matilda": ("Tilly", "Tilda"),
    "Harriet": ("Hattie",),
    "Imogen": ("Immy",),
    "Florence": ("Flo", "Florrie"),
    "Winifred": ("Winnie",),
    "Gladys": ("Glad",),
    "Theodora": ("Dora", "Teddie"),
    "Josephine": ("Jo", "Josie"),
    "Frances": ("Fran", "Frankie"),
    "Henrietta": ("Etta", "Hetty"),
    "Wilhelmina": ("Mina", "Billie"),
    "Antonia": ("Toni",),
    "Georgina": ("Georgie", "Gina"),
    "Roberta": ("Bobbie",),
    "Louisa": ("Lou",),
    "Constance": ("Connie",),
    "Patience": ("Patty",),
    "Katarzyna": ("Kasia",),
    "Magdalena": ("Magda",),
    "Agnieszka": ("Aga",),
    "Isabel": ("Izzy", "Bel"),
    "Beatriz": ("Bea",),
    "Pauline": ("Polly",),
    "Maureen": ("Mo",),
    "Sandra": ("Sandy",),
    "Rosie": ("Ro",),
    "Abena": ("Abby",),
    "Khadija": ("Dija",),
}

SURNAMES = """
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson
Roberts Robinson Thompson Wright Walker White Edwards Hughes Green Hall
Patel Khan Singh Ahmed Hussain Ali Shah Begum Akhtar Rahman
Lewis Harris Clarke Jackson Wood Turner Martin Cooper Hill Ward
Morris Moore Clark Lee King Baker Harrison Morgan Allen James
Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell
Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller
Cox Richards Khan-Patel Marshall Simpson Ellis Adams Wilkinson Anderson Foster
O'Brien O'Connor O'Neill McCarthy Byrne Walsh Ryan Doyle Kennedy Quinn
Nowak Kowalski Wiśniewski Wójcik Kowalczyk Lewandowski Zieliński Szymański Popescu Ionescu
Nguyen Tran Le Pham Chen Wang Zhang Liu Li Huang
Okafor Okonkwo Adeyemi Mensah Boateng Owusu Asante Osei Diallo Traoré
Fernández García Rodríguez López Martínez Sánchez Pérez Gómez Rossi Russo
Murray Graham Stewart Campbell Anderson-Reid Ross Paterson Fraser Reid Hamilton
Chapman Mason Webb Rogers Gray Lloyd Barker Hunt Mills Holmes
Palmer Matthews Fisher Barnes Knight Harvey Butler Russell Gibson Lawrence
Ferguson Pearson Grant Hart Armstrong Fox Stevens Dixon Burton Cole
Howard Ford Dawson Reynolds Pearce Hayes Atkinson Jenkins Saunders Payne
Spencer Webster Hudson Sutton Day Booth Porter Stone Newman Lane
D'Souza D'Costa Fernandes Pereira Almeida Costa Silva Santos Oliveira Sousa
Mahmood Iqbal Chaudhry Malik Qureshi Siddiqui Mirza Bibi Aziz Rashid
Gupta Sharma Kumar Mehta Desai Joshi Chauhan Rao Reddy Nair
Whitfield Ashworth Blackwood Fairweather Goodacre Hargreaves Illingworth Knatchbull Lightfoot Marwood
Nettleton Ormerod Pickersgill Quarmby Rainsford Scattergood Thistlethwaite Umpleby Venables Wainwright
Yarwood Zouche Abernethy Bellingham Crowther Dunwoody Entwistle Featherstonehaugh Greenhalgh Heseltine
Ackroyd Birtwistle Cholmondeley Dalrymple Elphinstone Fothergill Gedge Hollingsworth Inchbald Jepson
Kershaw Loveday Mottershead Nuttall Oddie Postlethwaite Raistrick Sidebottom Trickett Uttley
Vasquez Wilde Yeoman Zeller Achterberg Bouchard Chevalier Dubois Lefebvre Moreau
Schmidt Müller Schneider Fischer Weber Becker Wagner Hoffmann Schäfer Koch
""".split()


def weights(count: int, *, offset: float, exponent: float) -> list[float]:
    """Zipf-like weights by rank: a few names very common, a long rare tail."""
    return [1.0 / (rank + offset) ** exponent for rank in range(count)]


MALE_WEIGHTS = list(accumulate(weights(len(MALE_GIVEN), offset=6, exponent=1.0)))
FEMALE_WEIGHTS = list(accumulate(weights(len(FEMALE_GIVEN), offset=6, exponent=1.0)))
SURNAME_WEIGHTS = list(accumulate(weights(len(SURNAMES), offset=8, exponent=1.05)))


def nickname_share(names: list[str], cumulative: list[float]) -> float:
    """The weighted share of people whose given name has a nickname."""
    total = cumulative[-1]
    share = 0.0
    previous = 0.0
    for name, cum in zip(names, cumulative, strict=True):
        if name in NICKNAMES:
            share += cum - previous
        previous = cum
    return share / total


NICKNAME_SHARE = (
    nickname_share(MALE_GIVEN, MALE_WEIGHTS) + nickname_share(FEMALE_GIVEN, FEMALE_WEIGHTS)
) / 2

STREET_STEMS = """
Mill Church Station Victoria Albert Queen King Park Chapel High
Willow Oak Elm Ash Beech Birch Cedar Hawthorn Holly Rowan
Meadow Orchard Brook River Bridge Ferry Wharf Quay Lock Canal
Market Castle Abbey Priory Manor Grange Hall Court Tower Gate
Spring Well Fountain Lark Swan Heron Kingfisher Mallard Otter Badger
Nelson Wellington Gladstone Disraeli Cromwell Raleigh Drake Darwin Newton Shelley
Byron Keats Milton Chaucer Tennyson Wordsworth Austen Bronte Hardy Dickens
North South East West Upper Lower Middle Long Broad Green
Cherry Apple Plum Pear Hazel Laurel Myrtle Poplar Sycamore Chestnut
Hill Valley Heath Common Moor Field Acre Croft Marsh Dale
Primrose Bluebell Foxglove Heather Ivy Jasmine Lavender Lilac Marigold Violet
Harbour Anchor Sail Mariner Tide Shore Bay Cliff Dock Pier
""".split()

STREET_KINDS = """
Road Street Lane Avenue Close Gardens Terrace Way Crescent Grove Place Drive Row Walk
""".split()

BUILDING_NAMES = """
Alder Birchwood Carlton Denmark Eden Falcon Grosvenor Hanover Imperial Jubilee
Kestrel Lancaster Marlborough Norfolk Oxford Pembroke Queensway Regent Sovereign Trafalgar
""".split()
