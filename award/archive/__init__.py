"""The procedure file (招投标档案, issue 14): once a tender has ended (awarded, failed or cancelled), one
ZIP with everything of the procedure, each file listed with its SHA-256 in a manifest the audit log covers,
and the procedure's audit entries with inclusion proofs to a signed checkpoint, so that anyone holding the
platform's verifier key can check it offline (`etender audit verify-bundle`, docs/archive.md).

bundle.py is the format (the ZIP writer and the offline verifier: no database), sections.py the content (a
list of small functions, one per part of the file), services.py who may download it and the build."""
