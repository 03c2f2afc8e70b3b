"""The Images quality figures (issue #15 item 8): real digits pass; each way to fool "recognisable" is caught."""
import numpy as np
import pytest

from wgan_core.lessons import image_quality as iq

REF = iq.digits_reference()
RNG = np.random.default_rng(0)


def class_means() -> np.ndarray:
    return np.stack([REF.ref[REF.ref_labels == k].mean(0) for k in range(10)])


def test_split_is_fixed_disjoint_and_covers_every_class():
    assert REF.ref.shape == (1297, 64) and REF.held.shape == (500, 64)
    assert set(np.unique(REF.held_labels)) == set(range(10))
    assert 0 <= REF.ref.min() and REF.ref.max() <= 1
    assert iq.digits_reference() is REF
    assert np.mean(REF.held_d <= REF.q_ok) == pytest.approx(0.9, abs=0.01)
    assert np.mean(REF.held_d < REF.q_close) == pytest.approx(0.05, abs=0.01)


def test_real_held_out_digits_score_like_real_digits_and_are_rarely_flagged():
    flagged = 0
    for _ in range(60):
        q = iq.quality(REF.held[RNG.choice(500, 64, replace=False)])
        assert 0.75 < q["recognisable"] <= 1 and q["classes"] > 8 and 0.85 < q["variety"] < 1.15
        flagged += bool(q["flags"])
    assert flagged <= 3                                   # 3 standard deviations, three figures


def test_the_standard_error_is_the_binomial_one():
    q = iq.quality(REF.held[:64])
    p = q["recognisable"]
    assert q["recognisable_se"] == pytest.approx(np.sqrt(p * (1 - p) / 64))
    assert iq.baseline(REF, 64)["recognisable"][1] == pytest.approx(np.sqrt(0.09 / 64), rel=0.25)


def test_fooling_64_copies_of_one_training_digit():
    q = iq.quality(np.repeat(REF.ref[:1], 64, axis=0))
    assert q["recognisable"] == 1.0                       # fooled ...
    assert q["classes"] == pytest.approx(1.0) and q["top_share"] == 1.0
    assert q["variety"] < 0.01 and q["too_close"] == 1.0
    assert set(q["flags"]) == {"classes", "variety", "too_close"}        # ... and caught three times


def test_fooling_the_ten_class_means():
    q = iq.quality(class_means()[np.arange(64) % 10])
    assert q["recognisable"] == 1.0 and q["classes"] > 9.5              # fooled, and balanced
    assert q["variety"] < 0.05 and "variety" in q["flags"]                # caught: they repeat


def test_fooling_the_class_means_with_a_little_noise():
    x = np.clip(class_means()[np.arange(64) % 10] + RNG.normal(0, 0.05, (64, 64)), 0, 1)
    q = iq.quality(x)
    assert q["recognisable"] > 0.95 and "variety" in q["flags"]


def test_fooling_blends_of_a_3_and_an_8():
    threes, eights = REF.ref[REF.ref_labels == 3], REF.ref[REF.ref_labels == 8]
    x = (threes[RNG.integers(len(threes), size=64)] + eights[RNG.integers(len(eights), size=64)]) / 2
    q = iq.quality(x)
    assert q["recognisable"] > 0.6                        # mostly fooled
    assert q["classes"] < 3.5 and q["top_share"] > 0.4
    assert {"classes", "variety"} <= set(q["flags"])


def test_noise_is_not_recognisable():
    for noise in (RNG.random((64, 64)), np.zeros((64, 64)), np.full((64, 64), 0.5)):
        q = iq.quality(noise)
        assert q["recognisable"] == 0.0 and q["nn_ratio"] > 2


def test_quality_accepts_pictures_and_rejects_bad_shapes():
    x = REF.held[:10]
    a, b = iq.quality(x.reshape(10, 8, 8)), iq.quality(x)
    assert a["nn_ratio"] == pytest.approx(b["nn_ratio"]) and a["recognisable"] == b["recognisable"]
    for bad in (np.zeros((5, 63)), np.zeros((1, 64)), np.zeros((0, 64))):
        with pytest.raises(ValueError):
            iq.quality(bad)


def test_at_most_half_the_held_out_digits_are_scored():
    q = iq.quality(np.repeat(REF.held, 2, axis=0))
    assert q["n"] == iq.max_scored(REF) == 250


def test_effective_classes():
    assert iq.effective_classes(np.arange(100) % 10) == pytest.approx(10)
    assert iq.effective_classes([3] * 7) == pytest.approx(1)
    assert iq.effective_classes([1, 2] * 5) == pytest.approx(2)


def test_real_row_has_one_typical_digit_of_each_class():
    row = iq.real_row()
    assert row.shape == (10, 8, 8)
    d, idx = iq.nearest(row.reshape(10, 64), REF.ref)
    assert list(REF.ref_labels[idx]) == list(range(10))


def test_nearest_in_chunks_matches_the_whole_matrix(monkeypatch):
    x = RNG.random((37, 64)).astype(np.float32)
    whole = iq.nearest(x, REF.ref)
    monkeypatch.setattr(iq, "CHUNK", 5000)
    chunked = iq.nearest(x, REF.ref)
    assert np.array_equal(whole[1], chunked[1]) and np.allclose(whole[0], chunked[0])


def test_flag_texts_cover_every_flag_in_one_sentence():
    assert set(iq.FLAG_TEXT) == {"classes", "variety", "too_close"}
    assert iq.flag_sentence([]) == ""
    text = iq.flag_sentence(["classes", "variety", "too_close"])
    assert text.startswith("Do not trust") and text.endswith(".") and text.count(".") == 1
