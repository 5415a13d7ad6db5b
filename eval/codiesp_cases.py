"""Real CodiEsp cases that mention stroke, with gold facts (texts in codiesp/, one file per case).

CodiEsp v4: Miranda-Escalada et al., BSC / Plan TL, Zenodo 3837305, CC BY 4.0 (see README.md).
``codiesp_split`` is the CodiEsp split the case was taken from (train or background only: dev and
test are used elsewhere in kgqa as out-of-scope measurement); ``split`` is this set's dev/test split.
The texts are the published files unchanged, except where ``excerpt`` says otherwise. These are
published case reports, not discharge letters: most facts a registry wants are absent, and the
gold marks only what the text states (rules in README.md).
"""

from spec import glucose_mgdl

CASES = [
    {   # ischaemic stroke in extreme obesity; IVT considered and withheld; home rivaroxaban
        "doc": "S1130-63432016000100009-1", "codiesp_split": "train", "split": "dev",
        "facts": [
            ("sex", "Varón", "male"),
            ("age", "52", 52),
            ("stroke_type", "ictus isquémico", "ischemic"),
            ("before_onset_rivaroxaban", "Rivaroxabán", True),
            ("thrombolysis", "se desestimó dicha intervención", False),
            ("nihss_score", "[[23]] puntos", 23),
        ],
    },
    {   # embolic stroke from non-bacterial thrombotic endocarditis (lung adenocarcinoma)
        "doc": "S0212-71992006001000007-1", "codiesp_split": "train", "split": "test",
        "facts": [
            ("sex", "Mujer", "female"),
            ("age", "51", 51),
            ("stroke_type", "ictus", "ischemic"),
            ("systolic_pressure", "tensión arterial [[120]]", 120),
            ("diastolic_pressure", "120/[[60]]", 60),
        ],
    },
    {   # emphysematous cystitis; previous ischaemic stroke in the history only
        "doc": "S0004-06142009000500009-1", "codiesp_split": "train", "split": "dev",
        "facts": [
            ("sex", "mujer", "female"),
            ("age", "91", 91),
            ("risk_diabetes", "diabética tipo 2", True),
            ("before_onset_antidiabetics", "hipoglucemiantes orales", True),
            ("risk_hypertension", "hipertensa", True),
            ("risk_previous_stroke", "ictus isquémico", True),
            ("glucose", "571 mg/dL", glucose_mgdl(571)),
        ],
    },
    {   # IV t-PA at 93; NIHSS 14 -> 7 after the procedure -> 3 at discharge -> 0 at 3 months
        "doc": "S0034-98872008000400012-1", "codiesp_split": "background", "split": "test",
        "facts": [
            ("sex", "sexo femenino", "female"),
            ("age", "93", 93),
            ("risk_hypertension", "hipertensión arterial crónica", True),
            ("nihss_score", "fue de [[14]] puntos", 14),
            ("stroke_type", "isquemia cerebral", "ischemic"),
            ("thrombolysis", "se realizó una trombolisis", True),
            ("ivt_drug", "t-PA", "alteplase"),
            ("discharge_nihss_score", "escala NIHSS de [[3]] puntos", 3),
        ],
    },
    {   # basilar occlusion after a TIA misdiagnosis; mechanical thrombectomy ("trombolisis mecánica")
        "doc": "S0034-98872013000300016-1", "codiesp_split": "background", "split": "dev",
        "facts": [
            ("age", "40", 40),
            ("sex", "sexo masculino", "male"),
            ("prestroke_mrs", "modificada [[0]] (mRs)", 0),
            ("stroke_type", "AVE isquémico", "ischemic"),
            ("nihss_score", "(NIHSS) de [[12]] puntos", 12),
            ("thrombectomy", "trombolisis mecánica", True),
            ("discharge_nihss_score", "NIHSS de [[6]] al alta", 6),
        ],
    },
    {   # IVT stopped for epistaxis, then thrombectomy TICI 3 (the NIHSS number is missing in the source)
        "doc": "S0034-98872018000800857-6", "codiesp_split": "background", "split": "test",
        "facts": [
            ("sex", "Mujer", "female"),
            ("age", "62", 62),
            ("risk_hypertension", "hipertensa", True),
            ("risk_smoker", "tabáquica", True),
            ("thrombolysis", "trombolisis endovenosa", True),
            ("thrombectomy", "trombectomía mecánica", True),
            ("mtici_score", "TICI 3", "3"),
        ],
    },
    {   # cerebral air embolism during endoscopy; died at 48 h
        "doc": "S0034-98872005000400009-1", "codiesp_split": "background", "split": "dev",
        "facts": [
            ("sex", "mujer", "female"),
            ("age", "52", 52),
            ("systolic_pressure", "([[90]]/50)", 90),
            ("diastolic_pressure", "(90/[[50]])", 50),
            ("nihss_score", "NIHSS=[[27]]", 27),
            ("stroke_type", "embolias aéreas", "ischemic"),
            ("discharge_destination", "falleció", "dead"),
        ],
    },
    {   # the file holds two cases; only the second (a stroke treated with rt-PA) is copied
        "doc": "S0034-98872014000900015-1", "codiesp_split": "background", "split": "test",
        "excerpt": "the second of the two cases in the published file (from 'Hombre de 38 años' to the end)",
        "facts": [
            ("sex", "Hombre", "male"),
            ("age", "38", 38),
            ("risk_smoker", "tabaquismo activo", True),
            ("gcs_score", "Glasgow [[14]]", 14),
            ("nihss_score", "puntuación de [[19]]", 19),
            ("stroke_type", "accidente cerebro vascular (ACV) isquémico agudo", "ischemic"),
            ("thrombolysis", "se inició trombolisis", True),
            ("ivt_drug", "rt-PA", "alteplase"),
            ("discharge_warfarin", "acenocumarol", True),
        ],
    },
    {   # GIST; previous ischaemic stroke and home medication in the history only
        "doc": "S0212-71992007000600005-1", "codiesp_split": "background", "split": "dev",
        "facts": [
            ("age", "72", 72),
            ("risk_diabetes", "diabetes mellitus tipo 2", True),
            ("before_onset_antidiabetics", "insulinizada", True),
            ("risk_hypertension", "hipertensión arterial", True),
            ("risk_hyperlipidemia", "dislipemia", True),
            ("risk_previous_stroke", "accidente cerebrovascular isquémico", True),
            ("before_onset_clopidogrel", "clopidogrel", True),
            ("before_onset_antihypertensives", "carvedilol", True),
            ("before_onset_statin", "atorvastatina", True),
        ],
    },
    {   # pontine infarct from basilar stenosis (neurosyphilis), endovascular stenting
        "doc": "S0120-41572012000100002-1", "codiesp_split": "background", "split": "test",
        "facts": [
            ("age", "54", 54),
            ("sex", "sexo masculino", "male"),
            ("risk_hypertension", "hipertensión arterial", True),
            ("systolic_pressure", "presión arterial de [[120]]", 120),
            ("diastolic_pressure", "120/[[70]]", 70),
            ("stroke_type", "infarto póntico", "ischemic"),
            ("thrombectomy", "tratamiento endovascular", True),
        ],
    },
    {   # eosinophilic gastroenteritis; hemiparesis from a previous stroke in the history
        "doc": "S1130-01082015000300013-1", "codiesp_split": "background", "split": "test",
        "facts": [
            ("sex", "Varón", "male"),
            ("age", "69", 69),
            ("risk_hypertension", "hipertensión arterial", True),
            ("risk_smoker", "fumador", True),
            ("risk_previous_stroke", "por [[ictus]]", True),
        ],
    },
    {   # pleural empyema; previous atherothrombotic stroke with residual deficits
        "doc": "S0034-98872006000800013-1", "codiesp_split": "background", "split": "dev",
        "facts": [
            ("sex", "Varón", "male"),
            ("age", "59", 59),
            ("risk_previous_stroke", "accidente cerebrovascular aterotrombótico", True),
            ("systolic_pressure", "TA [[100]]", 100),
            ("diastolic_pressure", "100/[[60]]", 60),
        ],
    },
]
