"""The guide's vocabulary: default codebook and stakeholder groups.

Source: ``shared/seed/integration-strategy-guide.txt`` ("Example Interview
Domains", the six policy parameters, "Who to engage"). Every study starts from
these; researchers edit them per study. Keys are stable slugs so that pattern
files, exports and tests can refer to a code without depending on its wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CodeSpec:
    key: str
    name: str
    description: str
    color: str = "#4a6fa5"
    children: tuple[CodeSpec, ...] = field(default_factory=tuple)


INTERVIEW_DOMAINS = CodeSpec(
    key="interview-domains",
    name="Interview domains",
    description="The example interview domains used across interviews and focus groups.",
    color="#1f5f8b",
    children=(
        CodeSpec(
            "defining-integration",
            "Defining integration",
            "Goals and key elements of integration: administration, financing, care and benefits.",
            "#1f5f8b",
        ),
        CodeSpec(
            "patient-populations",
            "Patient populations for integration",
            "Which dual-eligible subgroups an integrated model should serve.",
            "#2e7d6b",
        ),
        CodeSpec(
            "integration-mechanisms",
            "Integration mechanisms",
            "Vehicles for integration such as D-SNPs, FIDE-SNPs, HIDE-SNPs and PACE.",
            "#6a4c93",
        ),
        CodeSpec(
            "delivery-system-supports",
            "Delivery system supports",
            "Data infrastructure, workforce, provider networks and care coordination.",
            "#8a5a00",
        ),
        CodeSpec(
            "contract-incentives",
            "Contract incentives and outcomes measurement",
            "State Medicaid agency contracts, incentives, quality measures and evaluation.",
            "#a23b3b",
        ),
        CodeSpec(
            "beneficiary-engagement",
            "Beneficiary empowerment, experience and engagement",
            "How beneficiaries and care partners understand, choose and experience their care.",
            "#0b6e99",
        ),
        CodeSpec(
            "equity-strategies",
            "Strategies to address equity",
            "Reaching underserved groups and regions, and avoiding inequitable access.",
            "#5b7f1a",
        ),
        CodeSpec(
            "lessons-learned",
            "Lessons learned and best practices",
            "Experience from other states and programs worth repeating or avoiding.",
            "#7a4e2d",
        ),
    ),
)

POLICY_PARAMETERS = CodeSpec(
    key="policy-parameters",
    name="Policy parameters",
    description="The key policy and programmatic parameters that define integration options.",
    color="#5c5c5c",
    children=(
        CodeSpec(
            "param-integration-mechanisms",
            "Integration mechanisms (parameter)",
            "The state's choice of integration approach: D-SNP strategy, PACE, or both.",
            "#6a4c93",
        ),
        CodeSpec(
            "param-populations-services",
            "Populations and services",
            "Which populations (e.g. LTSS users, I/DD and TBI waiver populations) and "
            "services are included.",
            "#2e7d6b",
        ),
        CodeSpec(
            "param-enrollment-mechanisms",
            "Enrollment mechanisms",
            "Aligned, exclusively aligned, default and auto-enrollment.",
            "#0b6e99",
        ),
        CodeSpec(
            "param-phased-in-approach",
            "Phased-in approach",
            "Phasing implementation by population or by geography.",
            "#8a5a00",
        ),
        CodeSpec(
            "param-service-area-alignment",
            "Service area alignment",
            "Requiring aligned Medicaid plans and D-SNPs to cover the same service areas.",
            "#a23b3b",
        ),
        CodeSpec(
            "param-core-model-components",
            "Core model components",
            "Programmatic components such as care coordination, networks and aligned timelines.",
            "#5b7f1a",
        ),
    ),
)

DEFAULT_CODEBOOK: tuple[CodeSpec, ...] = (INTERVIEW_DOMAINS, POLICY_PARAMETERS)

# "Who to engage", in the guide's order.
DEFAULT_STAKEHOLDER_GROUPS: tuple[tuple[str, str], ...] = (
    ("State officials", "State Medicaid agency officials"),
    ("Health plans", "Medicaid and Medicare health plans"),
    ("Federal experts", "Federal experts, for example CMS"),
    ("Consumer groups", "Area Agencies on Aging and advocates"),
    ("Other states", "Other states with integration experience"),
    ("Community-based organizations", "Community-based organizations"),
    ("Providers", "Providers"),
    ("Beneficiaries and care partners", "Beneficiaries and their care partners"),
)


def iter_codes(specs: tuple[CodeSpec, ...] = DEFAULT_CODEBOOK):
    """Yield ``(parent_key, spec)`` depth first, parents before children."""
    stack: list[tuple[str | None, CodeSpec]] = [(None, s) for s in reversed(specs)]
    while stack:
        parent, spec = stack.pop()
        yield parent, spec
        stack.extend((spec.key, c) for c in reversed(spec.children))
