"""The results' publicity (R54): the winning candidates published from the signed report (or, for government
procurement, the result notice, G87-69), objections on the result during it (R54) and complaints to the
supervising monitors (R60, R61) with their remedies, carried out by the platform."""
