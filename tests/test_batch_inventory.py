"""The COS inventory format (shared.tencent.inventory) against the documented sample, both CSV
quoting forms, URL-encoded hostile keys, checksums and the gzip size limit; and the emulator's
inventory writer read back by the project's reader and by a plain csv/gzip reading of the doc.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from dataclasses import dataclass
from urllib.parse import quote, unquote

import pytest

from emulator.ci.inventory import InventoryError, manifest_keys, write_inventory
from shared.tencent.inventory import (
    WRITTEN_SCHEMA,
    InventoryRow,
    ManifestFile,
    build_manifest,
    check_file,
    decode_rows,
    encode_rows,
    file_entry,
    names_bucket,
    parse_manifest,
)

# The manifest.json sample of the COS inventory doc (ci-facts.md section 9), verbatim values.
DOC_MANIFEST = {
    "sourceAppid": "1250000000",
    "sourceBucket": "example-source-bucket",
    "destinationAppid": "1250000000",
    "destinationBucket": "example-inventory-destination-bucket",
    "fileFormat": "CSV",
    "listObjectCount": "13",
    "listStorageSize": "7212835",
    "filterObjectCount": "13",
    "filterStorageSize": "7212835",
    "fileSchema": "Appid, Bucket, Key, Size, LastModifiedDate, ETag, StorageClass, "
    "IsMultipartUploaded, ReplicationStatus",
    "files": [
        {
            "key": "cos_bucket_inventory/1250000000/examplebucket/inventory01/"
            "04d73d9debc73d9f0bf85af461abde6c.csv.gz",
            "size": "502",
            "md5Checksum": "7d40288a09c25b302ad6cb5fced54f35",
        }
    ],
}
HOSTILE_KEYS = [
    "videos/my clip 01.mp4",
    "in/a+b%20c 100%.mp4",
    "视频/2024 夏天/我的 旅行 video (1).mp4",
    'comma,and"quote.mp4',
    "a/b/../c/./d#1?x=y.mp4",
    " lead and trail .mp4 ",
]
BUCKET = "media-1250000000"


def test_the_doc_sample_manifest_parses() -> None:
    manifest = parse_manifest(json.dumps(DOC_MANIFEST).encode())
    assert manifest.source_bucket == "example-source-bucket-1250000000"
    assert manifest.destination_bucket == "example-inventory-destination-bucket-1250000000"
    assert manifest.file_schema[:4] == ("Appid", "Bucket", "Key", "Size")
    assert manifest.object_count == 13
    assert manifest.files == (
        ManifestFile(DOC_MANIFEST["files"][0]["key"], 502, "7d40288a09c25b302ad6cb5fced54f35"),
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"fileFormat": "ORC"}, "only CSV"),
        ({"files": "x"}, "no files"),
        ({"sourceBucket": ""}, "no sourceBucket"),
        ({"fileSchema": None}, "no fileSchema"),
    ],
)
def test_a_manifest_of_another_shape_is_refused(change: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_manifest(json.dumps({**DOC_MANIFEST, **change}).encode())
    with pytest.raises(ValueError, match="not JSON"):
        parse_manifest(b"\xff{")


def _gz_csv(rows: list[list[str]], *, quoting: int) -> bytes:
    text = io.StringIO()
    csv.writer(text, quoting=quoting, lineterminator="\n").writerows(rows)
    return gzip.compress(text.getvalue().encode())


@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
def test_rows_are_read_by_the_schema_with_keys_url_decoded(quoting: int) -> None:
    schema = tuple(part.strip() for part in str(DOC_MANIFEST["fileSchema"]).split(","))
    tail = ["STANDARD", "false", ""]
    rows = [
        [
            "1250000000",
            "media",
            quote(key, safe=""),
            "12",
            "2024-01-01T00:00:00.000Z",
            '"e1"',
            *tail,
        ]
        for key in HOSTILE_KEYS
    ]
    read = list(decode_rows(_gz_csv(rows, quoting=quoting), schema))
    assert [row.key for row in read] == HOSTILE_KEYS
    assert {(row.bucket, row.size, row.etag) for row in read} == {("media", 12, "e1")}
    assert read[0].last_modified == "2024-01-01T00:00:00.000Z"


def test_a_plus_stays_a_plus_and_bad_encodings_are_refused() -> None:
    rows = [["1", "b", "a+b%2Bc%25"]]
    (row,) = decode_rows(_gz_csv(rows, quoting=csv.QUOTE_MINIMAL), ("Appid", "Bucket", "Key"))
    assert row.key == "a+b+c%" and row.size is None
    bad = _gz_csv([["1", "b", "%FF"]], quoting=csv.QUOTE_MINIMAL)
    with pytest.raises(ValueError, match="utf-8"):
        list(decode_rows(bad, ("Appid", "Bucket", "Key")))
    with pytest.raises(ValueError, match="no Key"):
        list(decode_rows(bad, ("Appid", "Bucket")))
    with pytest.raises(ValueError, match="not gzip"):
        list(decode_rows(b"plain text", ("Key",)))


def test_an_unpacked_size_over_the_limit_is_refused() -> None:
    bomb = gzip.compress(b"k\n" * 100_000)
    with pytest.raises(ValueError, match="over 1000 bytes"):
        list(decode_rows(bomb, ("Key",), max_bytes=1000))


def test_written_rows_round_trip_hostile_keys() -> None:
    rows = [InventoryRow(BUCKET, key, 3, "2024-01-01T00:00:00.000Z", "e") for key in HOSTILE_KEYS]
    data = encode_rows(rows)
    read = list(decode_rows(data, WRITTEN_SCHEMA))
    assert [r.key for r in read] == HOSTILE_KEYS
    assert all(names_bucket(r.bucket, BUCKET) for r in read) and read[0].bucket == "media"
    assert b"," not in gzip.decompress(data).split(b"\n")[3].split(b",")[2]  # keys are encoded


def test_the_manifest_lists_each_file_with_its_md5_and_checks_them() -> None:
    data = encode_rows([InventoryRow(BUCKET, "a.mp4", 1)])
    entry = file_entry("m/data/0.csv.gz", data)
    body = build_manifest(BUCKET, BUCKET, [entry], object_count=1, storage_size=1)
    document = json.loads(body)
    assert (document["sourceBucket"], document["sourceAppid"]) == ("media", "1250000000")
    assert document["listObjectCount"] == "1" and isinstance(document["files"][0]["size"], str)
    assert parse_manifest(body).files == (entry,)
    check_file(entry, data)
    with pytest.raises(ValueError, match="md5Checksum"):
        check_file(entry, data + b"x")


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    etag: str
    last_modified: float


def test_the_emulator_writes_what_cos_documents_and_reads_it_back() -> None:
    written: dict[tuple[str, str], bytes] = {}

    def write(bucket: str, key: str, data: bytes, content_type: str) -> None:
        written[(bucket, key)] = data

    objects = [Stored(key, 10, "d41d8cd98f00b204e9800998ecf8427e", 1.7e9) for key in HOSTILE_KEYS]
    answer = write_inventory(
        objects,
        write,
        source_bucket=BUCKET,
        destination_bucket="inv-1250000000",
        inventory_id="inventory01",
        when=1.7e9,
        rows_per_file=4,
    )
    manifest_key = str(answer["manifest"])
    assert (
        manifest_key == "cos_bucket_inventory/1250000000/media/inventory01/20231114/manifest.json"
    )
    manifest = json.loads(written[("inv-1250000000", manifest_key)])
    assert manifest["fileSchema"] == DOC_MANIFEST["fileSchema"] and len(manifest["files"]) == 2
    checksum = written[("inv-1250000000", manifest_key.replace(".json", ".checksum"))]
    assert checksum.decode() == hashlib.md5(written[("inv-1250000000", manifest_key)]).hexdigest()
    first = gzip.decompress(written[("inv-1250000000", manifest["files"][0]["key"])]).decode()
    cells = next(csv.reader(io.StringIO(first)))
    assert cells[:3] == ["1250000000", "media", quote(HOSTILE_KEYS[0], safe="")]
    assert unquote(cells[2]) == HOSTILE_KEYS[0]
    url = f"https://inv-1250000000.cos.ap-guangzhou.myqcloud.com/{manifest_key}"
    keys = manifest_keys(url, BUCKET, lambda bucket, key: written.get((bucket, key)))
    assert keys == HOSTILE_KEYS
    assert manifest_keys(url, "other-1250000000", lambda b, k: written.get((b, k))) == []


def test_the_emulator_fails_a_manifest_it_cannot_read() -> None:
    with pytest.raises(InventoryError, match="does not exist"):
        manifest_keys("m/manifest.json", BUCKET, lambda bucket, key: None)
    with pytest.raises(InventoryError, match="not a COS object URL"):
        manifest_keys("https://example.com/x", BUCKET, lambda bucket, key: None)
    document = {**DOC_MANIFEST, "files": [{"key": "f.csv.gz", "size": "3", "md5Checksum": "0"}]}
    stored = {"m.json": json.dumps(document).encode(), "f.csv.gz": b"abc"}
    with pytest.raises(InventoryError, match="md5Checksum"):
        manifest_keys("m.json", BUCKET, lambda bucket, key: stored.get(key))
