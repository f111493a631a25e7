"""Nicknames and the formal given names they stand for, so 'Bill' can match 'William'.

A name belongs to one or more *name groups*: a formal name is its own group, and a
nickname joins the group of every formal name it is short for ('Alex' joins
Alexander and Alexandra). Two given names are compatible when their groups meet.
The table is ours, written for English-speaking registers with the short forms
that clerks meet most; it knows nothing of any particular data set.
"""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein

# Formal name -> short forms, all lower case and folded (no accents, no spaces).
_TABLE = """
abigail: abby abbie gail
albert: al bert bertie
alexander: alex alec alexa sandy xander lex sasha
alexandra: alex alexa lexi lexie sandra sandy sasha
alfred: alf alfie fred freddie
alice: ally allie
alison: ali ally allie
amanda: mandy manda
amelia: millie milly amy
andrew: andy drew
angela: angie
anne: annie nan nancy
anna: annie
anthony: tony ant
antonia: toni
antonio: toni tony
archibald: archie
arthur: art artie
barbara: barb babs barbie
beatrice: bea trixie
beatriz: bea
benjamin: ben benny benji
bernard: bernie barney
bethany: beth
bradley: brad
bridget: bridie biddy
caroline: carol carrie caz
catherine: kate katie cathy kath kathy cat kitty
katherine: kate katie kathy kath kat kitty
kathleen: kath kathy kate katie
charles: charlie chas chuck chaz
charlotte: charlie lottie lotte
christina: chris tina chrissie
christine: chris chrissie tina
christopher: chris kit topher
clifford: cliff
constance: connie
cynthia: cindy
daniel: dan danny
danielle: dani
david: dave davy davie
deborah: debbie deb debs
dennis: den
dominic: dom
donald: don donnie
dorothy: dot dotty dolly dottie
douglas: doug
edward: ed eddie ted teddy ned
eleanor: ellie nell nellie nora
elizabeth: liz lizzie beth betty bess bessie eliza libby lisa elsie
emily: em emmy
ernest: ernie
eugene: gene
florence: flo florrie flossie
frances: fran frankie fanny
francesco: franco
francis: frank frankie
frederick: fred freddie freddy
gabriel: gabe
geoffrey: geoff
georgina: georgie gina
gerald: gerry jerry
gillian: gill jill gilly
gladys: glad
gregory: greg
gwendolyn: gwen
harold: harry hal
harriet: hattie harry
henrietta: etta hetty
henry: harry hal hank
herbert: bert herb
ibrahim: ibby
imogen: immy
isaac: ike zac
isabel: izzy bel bella isa
isabella: izzy bella
jacob: jake
jacqueline: jackie jacqui
james: jim jimmy jamie jem
jane: janie
janet: jan
jennifer: jen jenny
jessica: jess jessie
joanna: jo
joanne: jo
john: jack johnny jon
jonathan: jon jonny
joseph: joe joey jo
josephine: jo josie
joshua: josh
judith: judy
julia: jules
julian: jules
katarzyna: kasia
kenneth: ken kenny
kimberley: kim
lawrence: larry laurie
laurence: larry laurie
leonard: len lenny leo
leslie: les
louisa: lou
louise: lou
lucy: lu
magdalena: magda
margaret: peggy maggie meg madge greta marge margie
marjorie: marge margie
martin: marty
mary: molly polly mae
matilda: tilly tilda mattie
matthew: matt matty
maureen: mo
megan: meg
melanie: mel
michael: mike mick mikey mickey
michelle: shelley
mohammed: mo mohd
muhammad: mo mohd
natalie: nat
nathan: nate nat
nathaniel: nate nat
nicholas: nick nicky
nicola: nicky nic
norman: norm
oliver: ollie olly
olivia: liv livvy
pamela: pam
patience: patty
patricia: pat patty trish patsy tricia
patrick: pat paddy
pauline: polly
peter: pete
philip: phil pip
phillip: phil
rebecca: becky becca
reginald: reg reggie
richard: rich rick ricky dick richie
robert: bob rob bobby robbie bert
roberta: bobbie
ronald: ron ronnie
raymond: ray
russell: russ
sebastian: seb
simon: si
stuart: stu
teresa: tess terri tessa
edwin: ed eddie
edmund: ed ned
evelyn: evie
jeremy: jez jerry
maximilian: max
maxwell: max
mitchell: mitch
rachel: rach
rodney: rod
roger: rog
sidney: sid
sydney: syd
tobias: toby
virginia: ginny
wilfred: wilf
yvonne: vonnie
rosemary: rose rosie
samantha: sam sammy
samuel: sam sammy
sandra: sandy
sarah: sally sadie
stanley: stan
stephanie: steph
stephen: steve stevie
steven: steve stevie
susan: sue suzy susie
terence: terry
theodora: dora teddie
theodore: theo ted teddy
thomas: tom tommy
timothy: tim timmy
valerie: val
veronica: ronnie
victoria: vicky vicki tori
vincent: vince vinnie
walter: walt wally
wilhelmina: mina billie
william: bill will billy willie liam
winifred: winnie
zachary: zach zack zac
zakariya: zak
sulaiman: sully
vikram: vik
rupert: rupe
callum: cal
gary: gaz
marcus: marc
theo: ted
harry: haz
charlie: chaz
krzysztof: krzys
tomasz: tomek
piotr: piotrek
jakub: kuba
jose: pepe
giovanni: gianni
javier: javi
manuel: manolo
agnieszka: aga
khadija: dija
abena: abby
rosie: ro
hannah: han
sophie: soph
"""


def _parse(table: str) -> dict[str, tuple[str, ...]]:
    parsed: dict[str, tuple[str, ...]] = {}
    for line in table.strip().splitlines():
        formal, _, shorts = line.partition(":")
        parsed[formal.strip()] = tuple(shorts.split())
    return parsed


FORMAL_TO_NICKNAMES: dict[str, tuple[str, ...]] = _parse(_TABLE)


def _groups_by_name() -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = {}
    for formal, shorts in FORMAL_TO_NICKNAMES.items():
        groups.setdefault(formal, [])
        if formal not in groups[formal]:
            groups[formal].insert(0, formal)
        for short in shorts:
            members = groups.setdefault(short, [])
            if formal not in members:
                members.append(formal)
    # A short form that is also a name in its own right ('Harry', 'Liam') keeps itself first.
    for name, members in groups.items():
        if name in FORMAL_TO_NICKNAMES and members[0] != name:
            members.remove(name)
            members.insert(0, name)
    return {name: tuple(members) for name, members in groups.items()}


_GROUPS = _groups_by_name()


def _drop_one(word: str) -> set[str]:
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def _slip_index() -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for name in _GROUPS:
        for key in _drop_one(name):
            index.setdefault(key, set()).add(name)
    return index


_SLIP_INDEX = _slip_index()
# Shorter names are left alone: one slip turns 'Jo' or 'Ana' into too many other names.
_MIN_FUZZY_LENGTH = 4


@lru_cache(maxsize=200_000)
def name_groups(folded: str) -> tuple[str, ...]:
    """The formal names a folded given name may stand for; itself when it is unknown.

    An unknown name one typing slip from a known one ('Mihcael', 'Warah') joins that
    name's groups too, so a misspelt formal name still meets its nickname ('Mick', 'Sadie').
    """
    if not folded:
        return ()
    known = _GROUPS.get(folded)
    if known is not None:
        return known
    if len(folded) < _MIN_FUZZY_LENGTH:
        return (folded,)
    near = sorted(
        n
        for n in {n for key in _drop_one(folded) for n in _SLIP_INDEX.get(key, ())}
        if DamerauLevenshtein.distance(n, folded) <= 1
    )
    groups = [folded]
    for name in near:
        groups.extend(g for g in _GROUPS[name] if g not in groups)
    return tuple(groups)


def canonical(folded: str) -> str:
    """One formal name for a given name: itself if it is a formal name, else its likeliest one."""
    groups = name_groups(folded)
    return groups[0] if groups else ""


def nickname_count() -> int:
    """How many distinct short forms the table knows."""
    return len({s for shorts in FORMAL_TO_NICKNAMES.values() for s in shorts})
