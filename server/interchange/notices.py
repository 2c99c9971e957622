"""The recording notices Kumpul's exports add to a session's description, and its importer takes off again."""

NOT_RECORDED = "Not recorded. Please do not record or stream this session."
OFF_THE_RECORD = (
    "Off the record: no photos, no recording. Please do not quote, post or share what is said here, "
    "so that speakers can talk freely."
)
