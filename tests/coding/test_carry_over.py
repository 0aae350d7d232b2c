"""Coded spans find their words again in a new transcription of the same recording."""

from __future__ import annotations

import pytest

from coding.carry_over import NewTranscript, TimedText, normalise

OLD = TimedText("old", 10_000, 16_000,
                "We need D-SNP plans and aligned enrollment in rural counties.")


def find(new_segments, quote: str, old: TimedText = OLD, nth: int = 0):
    start = -1
    for _ in range(nth + 1):
        start = old.text.index(quote, start + 1)
    return NewTranscript(new_segments).find(old, start, start + len(quote), quote)


def spans(match):
    return [(p.key, p.start, p.end, p.text) for p in match.parts]


def test_same_text_same_times_is_found_as_is():
    match = find([TimedText(1, 10_000, 16_000, OLD.text)], "aligned enrollment")
    start = OLD.text.index("aligned enrollment")
    assert match.how == "exact" and not match.needs_check and match.words_kept
    assert spans(match) == [(1, start, start + 18, "aligned enrollment")]
    assert match.whole == match.parts[0]


def test_shifted_times_and_other_boundaries_still_find_the_words():
    # The new run starts 700 ms later and cut the passage elsewhere; the neighbours
    # heard at about the same time are searched too.
    new = [TimedText(1, 4_000, 10_600, "Thank you. We need D-SNP plans"),
           TimedText(2, 10_700, 16_700, "and aligned enrollment in rural counties."),
           TimedText(3, 16_700, 20_000, "That's all.")]
    match = find(new, "rural counties")
    assert match.how == "exact" and spans(match) == [(2, 26, 40, "rural counties")]
    match = find(new, "D-SNP plans")
    assert match.how == "exact" and spans(match) == [(1, 19, 30, "D-SNP plans")]


def test_a_repeated_word_is_found_where_it_was_not_at_its_first_occurrence():
    old = TimedText("old", 0, 8_000, "Yes. Well, we said yes to the plan.")
    new = [TimedText(1, 0, 8_000, "yes, well we said yes to the plan")]
    match = find(new, "yes", old=old, nth=0)
    assert match.how == "exact" and spans(match) == [(1, 18, 21, "yes")]
    match = find(new, "Yes", old=old)
    assert match.how == "normalised" and spans(match) == [(1, 0, 3, "yes")]


@pytest.mark.parametrize(("new_text", "quote", "found"), [
    ("we need d-snp plans, and aligned enrollment in rural counties",
     "D-SNP plans and", "d-snp plans, and"),
    ("We  need D SNP   plans and aligned enrollment", "D-SNP plans", "D SNP   plans"),
    ("... in rural counties!", "rural counties.", "rural counties!"),
])
def test_case_spacing_and_punctuation_do_not_count_as_changed_words(new_text, quote, found):
    match = find([TimedText(1, 10_000, 16_000, new_text)], quote)
    assert match.how == "normalised" and not match.needs_check
    assert [p.text for p in match.parts] == [found]


def test_reworded_text_is_carried_to_what_replaced_it_and_flagged():
    new = [TimedText(1, 10_000, 16_000,
                     "We need DSNP plans and aligned enrolment in rural counties.")]
    match = find(new, "aligned enrollment")
    assert match.how == "reworded" and match.needs_check and not match.words_kept
    assert [p.text for p in match.parts] == ["aligned enrolment"]
    assert match.reason == ("re-transcription changed the words “aligned enrollment” to "
                            "“aligned enrolment”; check the span")
    assert match.whole is None


def test_words_that_are_gone_go_to_the_passage_heard_at_that_time_flagged():
    new = [TimedText(1, 9_000, 12_500, "Something else entirely."),
           TimedText(2, 12_500, 16_000, "Nothing like the old words at all here.")]
    match = find(new, "rural counties")  # the end of the old segment: heard after 12.5 s
    assert match.how == "lost" and match.needs_check
    assert spans(match) == [(2, 0, 39, "Nothing like the old words at all here.")]
    assert "“rural counties” are not in the new transcript" in match.reason
    match = find(new, "We need")  # the start: heard before 12.5 s
    assert spans(match)[0][0] == 1


def test_a_passage_the_new_run_split_in_two_comes_back_in_two_parts():
    new = [TimedText(1, 10_000, 13_000, "We need D-SNP plans and aligned"),
           TimedText(2, 13_000, 16_000, "enrollment in rural counties.")]
    match = find(new, "plans and aligned enrollment")
    assert match.how == "split" and match.needs_check and match.words_kept
    assert spans(match) == [(1, 14, 31, "plans and aligned"), (2, 0, 10, "enrollment")]
    assert "splits “plans and aligned enrollment” across 2 segments" in match.reason
    assert match.whole is None
    # A span inside one of the halves is simply found there.
    assert spans(find(new, "rural")) == [(2, 14, 19, "rural")]


def test_segments_the_new_run_merged_hold_the_spans_of_both():
    first = TimedText("a", 0, 3_000, "Thanks for joining us.")
    second = TimedText("b", 3_000, 7_000, "Care coordination matters most.")
    new = NewTranscript([TimedText(1, 0, 7_000,
                                   "Thanks for joining us. Care coordination matters most.")])
    assert spans(new.find(first, 0, 6)) == [(1, 0, 6, "Thanks")]
    assert spans(new.find(second, 0, 17)) == [(1, 23, 40, "Care coordination")]


def test_the_stored_quote_is_used_when_the_span_no_longer_fits():
    new = [TimedText(1, 10_000, 16_000, OLD.text)]
    match = NewTranscript(new).find(OLD, 5, 5, "rural counties")  # emptied by an old edit
    assert match.how == "exact" and spans(match) == [(1, 46, 60, "rural counties")]


def test_an_empty_new_transcript_places_nothing():
    assert NewTranscript([]).find(OLD, 0, 7) is None


def test_best_segment_prefers_overlap_then_nearness():
    new = NewTranscript([TimedText(1, 0, 4_000, "a"), TimedText(2, 5_000, 9_000, "b")])
    assert new.best_segment(3_000, 6_000).key == 1  # 1 s against 1 s: the first wins
    assert new.best_segment(3_500, 8_000).key == 2
    assert new.best_segment(4_600, 4_700).key == 2  # no overlap: the nearest


def test_normalise_maps_back_to_the_original_text():
    text, index = normalise("  Hello,  WORLD — D-SNP!")
    assert text == "hello world d snp"
    assert [index[i] for i in (0, 6, 14)] == [2, 10, 20]
