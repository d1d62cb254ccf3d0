"""The trading centre's own records around a tender (issue 16): a project's intake (进场登记), the centre's
bid-opening rooms and their bookings, and the centre staff's witnessing (见证) of an opening or an evaluation
session. The calendar of both kinds of room and the witnessing of an evaluation are in supervision.centre,
which also sees the evaluation package."""
