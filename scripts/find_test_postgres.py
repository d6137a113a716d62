"""Print the URL of a PostgreSQL server for the tests if one answers on 127.0.0.1:5432.

Prints nothing when none answers, so that the PostgreSQL runs of the tests skip.
"""

import sys

import psycopg

URL = "postgresql+psycopg://127.0.0.1:5432/test"


def main() -> int:
    try:
        with psycopg.connect("host=127.0.0.1 port=5432 dbname=test", connect_timeout=3):
            pass
    except psycopg.Error as error:
        print(f"no PostgreSQL for the tests: {error}".strip(), file=sys.stderr)
        return 0
    print(URL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
