"""Phrases that tell an agent from a customer, in English and Mandarin (Simplified).

This module is data: extend the tuples to cover a call centre's own scripts. Each entry is
``(phrase, weight)``. Weights are in log-odds units: a hit adds its weight to the evidence that the
speaker is the agent (``AGENT_PHRASES``) or the customer (``CUSTOMER_PHRASES``); 3 is decisive on its
own, 1 is a hint. Phrases are matched fuzzily (telephone transcripts are misheard), lower-case, without
punctuation; Traditional characters are converted to Simplified before matching. Phrases said in the
opening of the call (``OPENING_SECONDS``) count ``OPENING_BONUS`` times as much, since that is where
the scripted greeting is.

Keep phrases specific: a short, common phrase ("okay", "thank you", "你好") is said by both parties
and only adds noise.
"""

from __future__ import annotations

OPENING_SECONDS = 30.0
OPENING_BONUS = 1.5

AGENT_PHRASES: tuple[tuple[str, float], ...] = (
    # English greetings and self-identification
    ("thank you for calling", 3.0),
    ("thanks for calling", 3.0),
    ("thank you for contacting", 3.0),
    ("how can i help you", 2.0),
    ("how may i help you", 2.0),
    ("how can i assist you", 2.0),
    ("how may i assist you", 2.0),
    ("what can i do for you", 1.5),
    ("how can i help", 1.5),
    ("you've reached", 2.0),
    ("calling on behalf of", 1.5),
    ("you're speaking with", 2.0),
    ("you are speaking with", 2.0),
    ("my name is and i'll be", 1.0),
    # English service phrases
    ("can i get your first and last name", 1.5),
    ("can i have your name", 1.5),
    ("could i get your name", 1.5),
    ("for verification", 1.5),
    ("verify your account", 1.5),
    ("can i have your account number", 1.5),
    ("let me pull up your account", 1.5),
    ("let me look that up", 1.0),
    ("i'm going to place you on hold", 2.0),
    ("let me put you on hold", 2.0),
    ("thank you for holding", 2.0),
    ("thank you for your patience", 1.5),
    ("thanks for your patience", 1.5),
    ("i apologize for the inconvenience", 1.0),
    ("sorry to hear that", 1.0),
    ("your date of birth", 1.0),
    ("is there anything else i can help you with", 2.0),
    ("is there anything else i can do for you", 2.0),
    ("anything else i can help with", 2.0),
    ("have a great day", 1.0),
    ("have a nice day", 1.0),
    ("have a good one", 1.0),
    ("ma'am", 1.0),
    ("sir", 0.5),
    # Mandarin greetings and self-identification
    ("很高兴为您服务", 3.0),
    ("请问有什么可以帮您", 3.0),
    ("有什么可以帮您", 2.0),
    ("有什么可以帮到您", 2.0),
    ("感谢您的来电", 3.0),
    ("感谢来电", 3.0),
    ("欢迎致电", 3.0),
    ("工号", 2.0),
    ("号客服", 2.0),
    ("客服代表", 1.5),
    ("这里是", 1.0),
    ("请问您贵姓", 1.5),
    ("请问怎么称呼您", 1.5),
    # Mandarin service phrases
    ("请您稍等", 1.5),
    ("请稍等", 1.0),
    ("感谢您的耐心等待", 2.0),
    ("让您久等了", 2.0),
    ("给您带来不便", 1.5),
    ("还有其他可以帮您", 2.0),
    ("还有什么可以帮您", 2.0),
    ("请问还有其他问题吗", 2.0),
    ("祝您生活愉快", 2.0),
    ("请您对我的服务进行评价", 3.0),
    ("核实一下您的身份", 1.5),
    ("为您查询", 1.5),
    ("帮您查一下", 1.5),
    ("帮您登记", 1.5),
)

CUSTOMER_PHRASES: tuple[tuple[str, float], ...] = (
    ("i'm calling about", 1.5),
    ("i'm calling because", 1.5),
    ("i am calling about", 1.5),
    ("i'm calling to", 1.0),
    ("i was wondering", 1.0),
    ("i bought", 1.0),
    ("i ordered", 1.0),
    ("my account", 0.5),
    ("my order", 0.5),
    ("my bill", 0.5),
    ("i have a question", 1.0),
    ("i need help with", 1.0),
    ("i lost my", 1.0),
    ("can i speak to", 1.0),
    ("i'd like to speak to", 1.0),
    ("thanks for your help", 1.0),
    ("thank you for your help", 1.0),
    ("what should i do", 1.0),
    ("can you help me", 1.0),
    ("i want to cancel", 1.0),
    ("i'd like to", 0.5),
    ("我想问一下", 1.5),
    ("我想咨询", 1.5),
    ("我想投诉", 1.5),
    ("我要投诉", 1.5),
    ("帮我查一下", 1.0),
    ("谢谢你的帮助", 1.0),
    ("我买的", 1.0),
    ("我的订单", 1.0),
    ("我的账户", 1.0),
    ("你们的", 0.5),
    ("你们这个", 0.5),
    ("怎么回事", 0.5),
)

# Agents introduce themselves: "this is Travis", "my name is Anna, how can I help".
# Words that, after "this is", mean the phrase is not an introduction.
NOT_A_NAME: frozenset[str] = frozenset(
    {
        "a", "an", "the", "my", "our", "your", "it", "its", "is", "not", "what", "that", "this",
        "just", "so", "very", "really", "about", "for", "going"
    }
)
SELF_INTRO_WEIGHT = 1.5
COMPANY_NAME_WEIGHT = 2.0  # the call centre's company named by a speaker (more in the opening)
