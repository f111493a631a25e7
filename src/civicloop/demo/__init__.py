"""The demo city of Riverton: `civicloop demo --people N --seed S`.

- `demo.generator`: DemoCity(DemoConfig(now=..., seed=..., people=...)) streams
  HouseholdBundle rows (demo.rows) without Django; also areas(), addresses(), and
  the catalogue and staff as plain data. For benchmarks that write with COPY.
- `demo.loader.load_city(city)`: writes a city with bulk_create, audited per batch.
- `demo.logins`: DEMO_PASSWORD and DEMO_USERS, the staff accounts the demo creates.
- `demo.showcase.person_with_cases_in_departments(...)`: a person worth showing.
"""
