"""Typed addresses matched against the agency's gazetteer, as reporters write them."""

from __future__ import annotations

import pytest

from civicloop.places.matching import AddressAmbiguous, AddressNotFound, address_match, normalise
from civicloop.places.models import Address
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def gazetteer():
    ward = f.AreaFactory(code="W1", name="Millbrook")

    def add(uprn, line1, line2="", town="Riverton", postcode="RV1 2AB"):
        return Address.objects.create(
            uprn=uprn,
            line1=line1,
            line2=line2,
            town=town,
            postcode=postcode,
            latitude=51.5,
            longitude=-0.1,
            area=ward,
        )

    return {
        "12 mill": add("1", "12 Mill Lane"),
        "14 mill": add("2", "14 Mill Lane"),
        "21 mill": add("3", "21 Mill Lane"),
        "12 mill eastfield": add("4", "12 Mill Lane", town="Eastfield", postcode="RV2 3CD"),
        "flat 2": add("5", "Flat 2, Oak House", "45 Mill Lane"),
        "flat 3": add("6", "Flat 3, Oak House", "45 Mill Lane"),
        "st annes": add("7", "3 St Anne's Road", postcode="RV3 1XY"),
        "church st": add("8", "7 Church Street", postcode="RV3 2XY"),
    }


@pytest.mark.parametrize(
    "text, expected",
    [
        ("14 Mill Lane", "14 mill"),
        ("14 mill ln", "14 mill"),
        ("14, Mill Lane, Riverton", "14 mill"),
        ("14 Mil Lane", "14 mill"),  # a typo
        ("12 Mill Lane RV1 2AB", "12 mill"),
        ("12 mill lane rv12ab", "12 mill"),
        ("12 Mill Lane, Eastfield", "12 mill eastfield"),
        ("Flat 2, Oak House, 45 Mill Lane", "flat 2"),
        ("flat 3 oak house", "flat 3"),
        ("3 St Annes Rd", "st annes"),
        ("7 Church St", "church st"),
    ],
)
def test_an_address_is_found_as_people_write_it(gazetteer, text, expected):
    assert address_match(text).address == gazetteer[expected]


@pytest.mark.parametrize(
    "text",
    ["99 Mill Lane", "12 Nonexistent Avenue", "", "   ", "Mill", "13 Mill Lane"],
)
def test_a_weak_match_is_no_match(gazetteer, text):
    with pytest.raises(AddressNotFound):
        address_match(text)


def test_several_equally_good_addresses_are_ambiguous(gazetteer):
    with pytest.raises(AddressAmbiguous) as several:
        address_match("12 Mill Lane")
    assert set(several.value.addresses) == {gazetteer["12 mill"], gazetteer["12 mill eastfield"]}
    with pytest.raises(AddressAmbiguous):
        address_match("Oak House, 45 Mill Lane")


def test_normalising_spells_out_abbreviations():
    assert normalise("3 St. Anne's Rd") == "3 st anne s road"
    assert normalise("Flat 1, Élan Ct") == "flat 1 elan court"
    assert normalise("7 Church St") == "7 church street"


def test_a_flat_number_that_is_also_the_house_number_names_that_flat():
    ward = f.AreaFactory(code="W9", name="Eastfield")
    for flat in (2, 24):
        Address.objects.create(
            uprn=f"B{flat}",
            line1=f"Flat {flat}, Trafalgar House",
            line2="24 Birch Street",
            town="Riverton",
            postcode="RV1 1AZ",
            latitude=51.5,
            longitude=-0.1,
            area=ward,
        )
    found = address_match("Flat 24, Trafalgar House, 24 Birch Street")
    assert found.address.uprn == "B24"
    assert address_match("Flat 2, Trafalgar House, 24 Birch Street").address.uprn == "B2"
