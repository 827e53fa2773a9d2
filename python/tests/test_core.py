# SPDX-License-Identifier: Apache-2.0
"""The bindings of the recognition core: numpy images, extraction, templates, matching, 1:N, metrics."""
import os
import pickle
import subprocess
import threading
import time

import numpy as np
import pytest

import palmvein


def test_version_and_algorithm():
    assert palmvein.__version__.count(".") == 2
    assert palmvein.algorithm_name(palmvein.default_algorithm_id())


def test_image_from_numpy_and_back_without_copy():
    pixels = np.arange(64 * 48, dtype=np.uint8).reshape(48, 64)
    image = palmvein.Image(pixels)
    assert (image.width, image.height, image.format) == (64, 48, palmvein.PixelFormat.Gray8)
    view = np.asarray(image)
    assert np.array_equal(view, pixels)
    assert np.shares_memory(view, image.numpy())  # both are views of the Image's own pixels
    wide = np.full((10, 12), 4000, dtype=np.uint16)
    image16 = palmvein.Image(wide, significant_bits=12)
    assert image16.format == palmvein.PixelFormat.Gray16 and image16.significant_bits == 12
    assert np.array_equal(np.asarray(image16), wide)
    # A padded row stride (a slice of a wider array) is accepted: only the pixels are copied.
    assert np.array_equal(np.asarray(palmvein.Image(np.zeros((20, 30), np.uint8)[:, :25])), np.zeros((20, 25)))


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.float32),
                                 np.zeros((4, 4), np.int16), np.zeros((8, 8), np.uint8)[:, ::2]])
def test_unusable_arrays_are_refused(bad):
    with pytest.raises(palmvein.InvalidArgument) as raised:
        palmvein.Image(bad)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, palmvein.Error)


def test_encode_decode_round_trip(tmp_path):
    pixels = (np.random.default_rng(1).random((40, 50)) * 255).astype(np.uint8)
    data = palmvein.encode_image(palmvein.Image(pixels), ".png")
    assert np.array_equal(np.asarray(palmvein.decode_image(data)), pixels)
    palmvein.write_image(str(tmp_path / "a.png"), palmvein.Image(pixels))
    assert np.array_equal(np.asarray(palmvein.read_image(str(tmp_path / "a.png"))), pixels)
    with pytest.raises(palmvein.FormatError):
        palmvein.decode_image(data[: len(data) // 2])


def test_extraction_from_sensor_frames_and_arrays(palms):
    extractor = palmvein.TemplateExtractor()
    with palmvein.open_sensor("virtual:?palm=3") as sensor:
        frame = sensor.grab()
    assert frame.array.shape == (frame.image.height, frame.image.width)
    from_frame = extractor.extract(frame)
    from_array = extractor.extract(np.array(frame.array))  # a copy: same pixels, same template
    assert from_frame.ok and from_array.ok and from_frame.template == from_array.template
    roi = from_frame.roi
    assert roi.image.width == 128 and 0 < roi.quality <= 1 and len(roi.corners) == 4
    assert from_frame.failure == palmvein.RoiFailure.None_


def test_no_palm_gives_a_reason_not_an_exception():
    result = palmvein.TemplateExtractor().extract(np.zeros((480, 640), np.uint8))
    assert not result.ok and result.template is None and result.roi is None
    assert result.failure != palmvein.RoiFailure.None_
    assert result.failure.code and result.failure.guidance


def test_extraction_equals_the_command_line_tool(tmp_path):
    cli = os.environ.get("PALMVEIN_CLI")
    if not cli:
        pytest.skip("PALMVEIN_CLI not set")
    with palmvein.open_sensor("virtual:?palm=5") as sensor:
        frame = sensor.grab()
    palmvein.write_image(str(tmp_path / "f.png"), frame.image)
    subprocess.run([cli, "extract", str(tmp_path / "f.png"), "-o", str(tmp_path / "f.pvt")], check=True,
                   capture_output=True)
    ours = palmvein.TemplateExtractor().extract(palmvein.read_image(str(tmp_path / "f.png")))
    assert ours.template.to_bytes() == (tmp_path / "f.pvt").read_bytes()


def test_template_bytes_pickle_and_corruption(palms):
    t = palms[0][0]
    data = t.to_bytes()
    assert len(data) == t.size and t.algorithm == palmvein.default_algorithm_id()
    assert palmvein.Template.from_bytes(data) == t
    assert palmvein.Template.from_bytes(bytearray(data)) == t
    assert pickle.loads(pickle.dumps(t)) == t
    with pytest.raises(palmvein.FormatError, match="truncated"):
        palmvein.Template.from_bytes(data[:10])
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x40
    with pytest.raises(palmvein.FormatError):
        palmvein.Template.from_bytes(bytes(flipped))


def test_match_matcher_and_calibration(palms):
    a, b = palms[0][0], palms[0][1]
    other = palms[1][0]
    assert palmvein.match(a, b) == palmvein.match(b, a)
    assert palmvein.Matcher(a).score(b) == palmvein.match(a, b)
    assert list(palmvein.Matcher(a).scores([b, other])) == [palmvein.match(a, b), palmvein.match(a, other)]
    threshold = palmvein.threshold_for_fmr(1e-4)
    assert palmvein.match(a, b) >= threshold > palmvein.match(a, other)
    cal = palmvein.Calibration.builtin()
    assert cal.threshold_for_fmr(1e-2) < cal.threshold_for_fmr(1e-4)
    with pytest.raises(palmvein.InvalidArgument):
        cal.threshold_for_fmr(2.0)


def test_index_search_equals_matcher_scores(palms):
    index = palmvein.IdentificationIndex(threads=2, strategy=palmvein.SearchStrategy.Exhaustive)
    for p, templates in palms.items():
        index.add(p, templates[0])
    probe = palms[4][1]
    found = index.search(probe, 3)
    assert found[0].id == 4
    assert [c.score for c in found] == sorted((palmvein.match(probe, t[0]) for t in palms.values()), reverse=True)[:3]
    assert index.identify(probe, palmvein.threshold_for_fmr(1e-4)).id == 4
    assert index.remove(4) == 1 and len(index) == len(palms) - 1
    assert index.identify_at_fmr(probe, 1e-4) is None


def test_search_releases_the_gil():
    """While one thread is inside a long C++ call, another runs Python code."""
    index = palmvein.IdentificationIndex(threads=1, strategy=palmvein.SearchStrategy.Exhaustive)
    gallery = palmvein.fill_bench_gallery(index, 60000, probes=1, source="drawn", threads=1)
    inside = {}

    def search():
        inside["start"] = time.perf_counter()
        index.search(gallery.probes[0], 5)
        inside["end"] = time.perf_counter()

    ticks = []
    worker = threading.Thread(target=search)
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
    worker.join()
    assert any(inside["start"] < t < inside["end"] for t in ticks)


def test_bench_gallery_shards_are_a_partition():
    whole = palmvein.IdentificationIndex(strategy=palmvein.SearchStrategy.Exhaustive)
    gallery = palmvein.fill_bench_gallery(whole, 3000, probes=4, source="drawn")
    parts = []
    for s in range(3):
        part = palmvein.IdentificationIndex(strategy=palmvein.SearchStrategy.Exhaustive)
        palmvein.fill_bench_gallery(part, 3000, probes=4, source="drawn", shard=s, shards=3)
        parts.append(part)
    assert sum(len(p) for p in parts) == len(whole) == 3000
    probe = gallery.probes[2]
    merged = sorted((c for p in parts for c in p.search(probe, 10)), key=lambda c: (-c.score, c.id))[:10]
    assert merged == whole.search(probe, 10)
    assert merged[0].id == gallery.mate_ids[2]
    with pytest.raises(palmvein.InvalidArgument):
        palmvein.fill_bench_gallery(part, 10, shard=3, shards=3)


def test_metrics_from_score_arrays():
    genuine = np.array([0.9, 0.8, 0.7, 0.3])
    impostor = np.array([0.1, 0.2, 0.35, 0.75])
    m = palmvein.verification_metrics(genuine, impostor)
    assert (m.genuine_pairs, m.impostor_pairs) == (4, 4)
    assert m.eer == pytest.approx(0.25)
    det = palmvein.det_curve(genuine, impostor)
    assert det.shape[1] == 3
    assert np.all(np.diff(det[:, 1]) >= 0) and np.all(np.diff(det[:, 2]) <= 0)  # FMR up, FNMR down


def test_open_set_metrics_and_tail_model():
    # 4 mated searches (mate scores/ranks), 4 non-mated searches (best scores), hand-checked:
    # at FPIR <= 1e-2 the threshold must exceed every non-mated best (0.6), so the mates at 0.55
    # (rank 1) and 0.5 (rank 2) are missed: FNIR 2/4 at rank 1.
    m = palmvein.open_set_metrics([0.9, 0.8, 0.55, 0.5], [1, 1, 1, 2], [0.3, 0.4, 0.6, 0.2], candidate_list=3)
    assert (m.mated_probes, m.nonmated_probes) == (4, 4)
    assert m.at(1e-2).fnir == pytest.approx(0.5) and m.at(1e-2).fpir == 0
    assert list(m.cmc[:2]) == [0.75, 1.0]
    with pytest.raises(palmvein.InvalidArgument):
        palmvein.open_set_metrics([0.9], [0], [0.1])
    rng = np.random.default_rng(3)
    impostor = rng.exponential(0.05, 200000)
    tail = palmvein.TailModel.fit(impostor, 0.02, palmvein.TailShape.Exponential)
    t = tail.threshold_for_fpir(1000, 0.01)
    assert tail.fpir(1000, t) == pytest.approx(0.01, rel=1e-3)
    assert tail.tail_probability(t) == pytest.approx(1 - (1 - 0.01) ** (1 / 1000), rel=1e-2)
    assert tail.fpir(10 ** 6, t) > tail.fpir(1000, t)


def test_gallery_enrol_list_and_errors(tmp_path, palms):
    key = str(tmp_path / "k.key")
    gallery = palmvein.Gallery.open(str(tmp_path / "g.db"), key_file=key)
    info = gallery.enroll("alice", palms[0][:2], hand=palmvein.Hand.Left, display_name="Alice")
    assert (info.id, info.template_count, info.hand) == ("alice", 2, palmvein.Hand.Left)
    assert [i.id for i in gallery.list()] == ["alice"]
    assert palmvein.Template.from_bytes(gallery.templates_of("alice")[0].data) == palms[0][0]
    with pytest.raises(palmvein.GalleryError) as raised:
        gallery.enroll("alice", palms[1][:1], hand=palmvein.Hand.Left)
    assert raised.value.fault == "already-exists"
    gallery.enroll("alice", palms[1][:1], hand=palmvein.Hand.Left, mode=palmvein.EnrollMode.Replace)
    assert gallery.find("alice", palmvein.Hand.Left).template_count == 1
    # The library's flows: 1:1 over the identity's templates, 1:N over the gallery.
    gallery.enroll("bob", palms[2][:2], hand=palmvein.Hand.Right)
    claim = gallery.verify("bob", palms[2][2], fmr=1e-4)
    assert claim.accepted and claim.hand == palmvein.Hand.Right and claim.templates_compared == 2
    assert claim.score == max(palmvein.match(palms[2][2], t) for t in palms[2][:2])
    assert not gallery.verify("alice", palms[2][2]).accepted
    strict = palmvein.DecisionThreshold.at_score(1.0)
    assert not gallery.verify("bob", palms[2][2], strict).accepted
    answer = gallery.identify(palms[2][2], k=2)
    assert answer.found and answer.identity.id == "bob" and [c.id for c in answer.candidates] == ["bob", "alice"]
    identifier = palmvein.Identifier.load(gallery)
    assert identifier.identify(palms[2][2], k=2).candidates[0].score == answer.candidates[0].score
    assert palmvein.Verifier.load(gallery, "bob").verify(palms[2][2]).score == claim.score
    with pytest.raises(palmvein.GalleryError) as raised:
        gallery.verify("nobody", palms[2][2])
    assert raised.value.fault == "not-found"
    infos = gallery.enroll_many([("carol", palms[3][:2], palmvein.Hand.Left, "Carol"), ("dave", [palms[4][0]])])
    assert [i.template_count for i in infos] == [2, 1]
    with pytest.raises(palmvein.GalleryError):  # all or none
        gallery.enroll_many([("erin", [palms[5][0]]), ("dave", [palms[4][1]])])
    assert gallery.find("erin") is None
    streamed = []
    gallery.for_each_template(lambda t: streamed.append((t.id, t.data)))
    assert streamed == [(t.id, t.data) for t in gallery.all_templates()]
    assert gallery.stored_template_count == len(streamed)
    palmvein.Gallery.open(str(tmp_path / "other.db"), key_file=str(tmp_path / "k2.key"))
    with pytest.raises(palmvein.GalleryError) as raised:
        palmvein.Gallery.open(str(tmp_path / "g.db"), key_file=str(tmp_path / "k2.key"))
    assert raised.value.fault == "wrong-key"


def test_sensors_enumerate_open_and_fail_cleanly():
    assert any(s.driver == "virtual" for s in palmvein.enumerate_sensors())
    with palmvein.open_sensor("virtual:?palm=1") as sensor:
        assert sensor.info.driver == "virtual" and sensor.capabilities.width > 0
        a, b = sensor.grab(), sensor.grab()
        assert b.counter > a.counter
    with pytest.raises(palmvein.InvalidArgument, match="unknown sensor scheme"):
        palmvein.open_sensor("nosuch:")
    with pytest.raises(palmvein.Error):
        palmvein.open_sensor("file:/nonexistent/folder")


def test_two_hands_verify_and_identify(tmp_path):
    # Synthetic people with both hands (the virtual sensor's hand=L / hand=R are two palms of one person).
    from conftest import capture_templates
    people = {p: {h: capture_templates(p, 3, hand=h) for h in "LR"} for p in (1, 2, 3)}
    gallery = palmvein.Gallery.open(str(tmp_path / "g.db"), key_file=str(tmp_path / "k.key"))
    for p, hands in people.items():
        gallery.enroll(f"person-{p}", hands["L"][:2], hand=palmvein.Hand.Left)
        gallery.enroll(f"person-{p}", hands["R"][:2], hand=palmvein.Hand.Right)
    probe = palmvein.PersonProbe(left=people[2]["L"][2], right=people[2]["R"][2])
    assert probe.both and not palmvein.PersonProbe(left=people[2]["L"][2]).both
    fused = palmvein.two_hand_threshold(palmvein.DecisionThreshold.at_fmr(1e-6))
    assert fused.fmr == 1e-6 and fused.score == pytest.approx(palmvein.Calibration.builtin().threshold_for_fmr(1e-3))
    claim = gallery.verify("person-2", probe, fmr=1e-6)
    assert claim.accepted and claim.two_hands and claim.hand == palmvein.Hand.Unknown
    assert claim.score == min(claim.left_score, claim.right_score) == palmvein.fuse_hand_scores(claim.left_score, claim.right_score)
    assert claim.left_score == gallery.verify("person-2", people[2]["L"][2], hand=palmvein.Hand.Left).score
    assert claim.threshold.score == fused.score
    assert not gallery.verify("person-1", probe).accepted
    assert palmvein.Verifier.load(gallery, "person-2").verify(probe, fmr=1e-6).score == claim.score
    answer = palmvein.Identifier.load(gallery).identify(probe, k=3)
    assert answer.two_hands and answer.found and answer.identity.id == "person-2"
    assert [c.id for c in answer.candidates][0] == "person-2" and len(answer.candidates) == 3
    assert all(c.score == min(c.left_score, c.right_score) for c in answer.candidates)
    assert gallery.identify(probe, k=1).identity.score == claim.score
    one = gallery.identify(palmvein.PersonProbe(right=people[2]["R"][2]), k=5)
    assert not one.two_hands and all(c.hand == palmvein.Hand.Right for c in one.candidates) and one.found
    with pytest.raises(palmvein.InvalidArgument):
        gallery.identify(palmvein.PersonProbe())
