"""People served: the person record (NHS number optional, demographics, where they live,
how to communicate with them) and their care team. Every read and change is audited.

Other capabilities use `people.service`:

- `get_person(session, context, person_id, principal=viewer)`: the record, audited as
  read; PersonNotFound, or PersonAccessDenied when the viewer is outside the care team;
- `can_see_person(principal, person)`: whether a viewer may see a record;
- `create_person(session, context, PersonDetails(...), organisation_id)`: a new record;
- `find_people(...)`, `find_or_create_person(...)`, `update_person(...)` (optimistic
  locking on `Person.version`), and the care team.

Pages and API routes about a person find it with `people.lookup`: `person_for_page(...)`
gives the record or the error page (404, or 403 in the words of the capability's
`Refusal`); `person_for_api(...)` the same for JSON.

Pages about a person start with its health passport: `{% from "people/_passport.html"
import passport %}{{ passport(person) }}`.
"""
