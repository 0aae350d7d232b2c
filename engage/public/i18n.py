"""Translations for the public pages: English message ids, a Spanish dictionary.

The public pages are few and their wording is settled with the agency, so a
dictionary is simpler to read, review and test than compiled gettext
catalogues. Message ids are the English text; ``{name}`` placeholders are
filled with ``str.format``. A test checks that every id the public templates
and forms use has a Spanish entry.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LANGUAGES = {"en": "English", "es": "Español"}

ES: dict[str, str] = {
    # Layout
    "Skip to main content": "Saltar al contenido principal",
    "Public comment": "Comentario público",
    "Language": "Idioma",
    "This site does not load anything from other servers.":
        "Este sitio no carga nada de otros servidores.",
    # Consultation page
    "Open for comment until {date}.": "Abierto a comentarios hasta el {date}.",
    "Comments open on {date}. The form will be available then.":
        "Los comentarios se abren el {date}. El formulario estará disponible entonces.",
    "This comment period closed on {date}. Comments are no longer accepted.":
        "Este período de comentarios cerró el {date}. Ya no se aceptan comentarios.",
    "This comment period is not open.": "Este período de comentarios no está abierto.",
    "Comment on this draft": "Comentar este borrador",
    "Read published comments": "Leer los comentarios publicados",
    "The draft": "El borrador",
    "Sections": "Secciones",
    "The draft text is written in English.": "El texto del borrador está escrito en inglés.",
    # Form
    "Comment on: {title}": "Comentar: {title}",
    "Back to the draft": "Volver al borrador",
    "Fields marked optional can be left empty.":
        "Los campos marcados como opcionales se pueden dejar vacíos.",
    "Your comment": "Su comentario",
    "Up to {max} characters.": "Hasta {max} caracteres.",
    "{count} of {max} characters used": "{count} de {max} caracteres usados",
    "Enter your comment.": "Escriba su comentario.",
    "Your comment must be {max} characters or fewer; it has {length}.":
        "Su comentario debe tener {max} caracteres o menos; tiene {length}.",
    "Which part of the draft is your comment about?":
        "¿Sobre qué parte del borrador es su comentario?",
    "The whole draft": "Todo el borrador",
    "Choose a part of the draft from the list.": "Elija una parte del borrador de la lista.",
    "About you": "Sobre usted",
    "Your name (optional)": "Su nombre (opcional)",
    "Organization (optional)": "Organización (opcional)",
    "Email for a receipt (optional)": "Correo electrónico para recibir un comprobante (opcional)",
    "We use it only to send your receipt. It is never published.":
        "Solo lo usamos para enviarle el comprobante. Nunca se publica.",
    "Enter an email address like name@example.org, or leave it empty.":
        "Escriba un correo electrónico como nombre@ejemplo.org, o déjelo vacío.",
    "Name and organization help us understand who commented. They are never published.":
        "El nombre y la organización nos ayudan a saber quién comentó. Nunca se publican.",
    "This must be 200 characters or fewer.": "Debe tener 200 caracteres o menos.",
    "(optional)": "(opcional)",
    "Yes": "Sí",
    "No": "No",
    "Prefer not to say": "Prefiero no decirlo",
    "Choose one of the answers.": "Elija una de las respuestas.",
    "Attach a document (optional)": "Adjuntar un documento (opcional)",
    "PDF, Word (.docx) or plain text (.txt), up to {size}.":
        "PDF, Word (.docx) o texto (.txt), de hasta {size}.",
    "Publication": "Publicación",
    "You may publish my comment (names, phone numbers and other personal details are removed first).":  # noqa: E501
        "Pueden publicar mi comentario (antes se quitan nombres, teléfonos y otros datos "
        "personales).",
    "Leave this field empty": "Deje este campo vacío",
    "Send comment": "Enviar comentario",
    "There is a problem": "Hay un problema",
    "This form had expired, so nothing was sent. Your text is still here: check it and send it again.":  # noqa: E501
        "El formulario había caducado y no se envió nada. Su texto sigue aquí: revíselo y "
        "envíelo de nuevo.",
    "Comments close on {date}.": "Los comentarios se cierran el {date}.",
    # Attachment errors (codes from coding.attachments)
    "The file is larger than {size}.": "El archivo ocupa más de {size}.",
    "The file is empty.": "El archivo está vacío.",
    "Attach a PDF, Word (.docx) or plain text (.txt) file.":
        "Adjunte un archivo PDF, Word (.docx) o de texto (.txt).",
    "The file's content does not match its name. Attach a PDF, Word (.docx) or plain text (.txt) file.":  # noqa: E501
        "El contenido del archivo no corresponde a su nombre. Adjunte un archivo PDF, Word "
        "(.docx) o de texto (.txt).",
    "Programs cannot be attached.": "No se pueden adjuntar programas.",
    "The file could not be read. Save it again as PDF, Word (.docx) or plain text and attach that.":  # noqa: E501
        "No se pudo leer el archivo. Guárdelo de nuevo como PDF, Word (.docx) o texto y "
        "adjunte ese.",
    "Documents with macros cannot be attached. Save it as a plain .docx or PDF.":
        "No se pueden adjuntar documentos con macros. Guárdelo como .docx normal o PDF.",
    "The PDF is protected by a password. Attach a copy without a password.":
        "El PDF está protegido con contraseña. Adjunte una copia sin contraseña.",
    # Receipt
    "Comment received": "Comentario recibido",
    "Thank you. Your comment was received.": "Gracias. Recibimos su comentario.",
    "Your tracking number": "Su número de seguimiento",
    "Keep this number. Quote it if you contact us about your comment.":
        "Guarde este número. Menciónelo si se comunica con nosotros sobre su comentario.",
    "Received on {date}.": "Recibido el {date}.",
    "A copy of this receipt is being sent to the email address you gave.":
        "Se está enviando una copia de este comprobante al correo electrónico que indicó.",
    "What happens next": "Qué sigue",
    "Staff read every comment. Comments may be published after personal details are removed.":
        "El personal lee todos los comentarios. Los comentarios pueden publicarse después de "
        "quitar los datos personales.",
    "Your comment was received: {tracking}": "Recibimos su comentario: {tracking}",
    # Refusals
    "Comments are not being accepted": "No se están aceptando comentarios",
    "Too many comments in a short time": "Demasiados comentarios en poco tiempo",
    "Too many comments were sent from your connection or to this consultation in a short time. Wait a few minutes and send it again.":  # noqa: E501
        "Se enviaron demasiados comentarios desde su conexión o a esta consulta en poco "
        "tiempo. Espere unos minutos y envíelo de nuevo.",
    "The submission is too large": "El envío es demasiado grande",
    "The comment and attachment together are larger than this form accepts ({size}). Attach a smaller file.":  # noqa: E501
        "El comentario y el adjunto juntos superan lo que acepta este formulario ({size}). "
        "Adjunte un archivo más pequeño.",
    "Nothing was saved. Here is the text you wrote, so that you can keep a copy:":
        "No se guardó nada. Este es el texto que escribió, para que pueda guardar una copia:",
    "Your text": "Su texto",
    # Published comments
    "Published comments": "Comentarios publicados",
    "Search published comments": "Buscar en los comentarios publicados",
    "Search": "Buscar",
    "{count} published comments.": "{count} comentarios publicados.",
    "{count} published comments containing “{q}”.":
        "{count} comentarios publicados que contienen «{q}».",
    "No comments have been published yet.": "Todavía no se han publicado comentarios.",
    "About: {section}": "Sobre: {section}",
    "Received {date}": "Recibido el {date}",
    "Pages": "Páginas",
    "Previous": "Anterior",
    "Next": "Siguiente",
    "Page {page} of {pages}": "Página {page} de {pages}",
}

CATALOGS: dict[str, dict[str, str]] = {"en": {}, "es": ES}

_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
}


def translate(lang: str, msgid: str, **values: object) -> str:
    text = CATALOGS.get(lang, {}).get(msgid, msgid)
    return text.format(**values) if values else text


def format_number(n: int, lang: str) -> str:
    """12,345 in English, 12.345 in Spanish."""
    text = f"{n:,}"
    return text.replace(",", ".") if lang == "es" else text


def format_datetime(when: datetime, timezone: str, lang: str, with_time: bool = True) -> str:
    """A date (and time) in the consultation's time zone, as people write it."""
    local = when.astimezone(ZoneInfo(timezone))
    month = _MONTHS.get(lang, _MONTHS["en"])[local.month - 1]
    zone = local.tzname() or timezone
    if lang == "es":
        date = f"{local.day} de {month} de {local.year}"
        return f"{date}, {local:%H:%M} ({zone})" if with_time else date
    date = f"{month} {local.day}, {local.year}"
    if not with_time:
        return date
    hour = local.hour % 12 or 12
    return f"{date}, {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'} {zone}"


def format_size(n: int) -> str:
    megabytes = n / 1024**2
    return f"{megabytes:.0f} MB" if megabytes >= 1 else f"{n / 1024:.0f} KB"
