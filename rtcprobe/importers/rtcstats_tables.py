"""The published compression tables of the rtcstats dump format (fileFormat 3).

From rtcstats/rtcstats `packages/rtcstats-shared/compression.js`: clients MAY replace method
names, stats types and stats property names with these codes, and importers MUST undo it. Codes
are compared as text (JSON object keys always are; JavaScript looks numbers up as text too).
Names not in a table are used as written.
"""

from __future__ import annotations

_METHODS = {
    "g": "getStats", "1": "getStats",
    "2": "createOffer", "3": "createOfferOnSuccess", "12": "createOfferOnFailure",
    "4": "createAnswer", "5": "createAnswerOnSuccess", "13": "createAnswerOnFailure",
    "6": "setLocalDescription", "7": "setLocalDescriptionOnSuccess", "14": "setLocalDescriptionOnFailure",
    "8": "setRemoteDescription", "9": "setRemoteDescriptionOnSuccess", "15": "setRemoteDescriptionOnFailure",
    "10": "addIceCandidate", "11": "addIceCandidateOnSuccess", "16": "addIceCandidateOnFailure",
    "20": "onicecandidate", "21": "onicecandidateerror", "22": "ontrack", "23": "onsignalingstatechange",
    "24": "oniceconnectionstatechange", "25": "onconnectionstatechange", "26": "onicegatheringstatechange",
    "27": "onnegotiationneeded", "28": "ondatachannel",
    "30": "addTrack", "31": "addTrackOnSuccess", "32": "addTransceiver", "33": "addTransceiverOnSuccess",
    "34": "removeTrack", "35": "createDataChannel", "36": "close", "37": "restartIce", "38": "setConfiguration",
    "39": "create", "40": "constraints", "41": "setCodecPreferences", "42": "setHeaderExtensionsToNegotiate",
    "50": "setParameters", "51": "replaceTrack",
    "60": "navigator.mediaDevices.getUserMedia", "61": "navigator.mediaDevices.getUserMediaOnSuccess",
    "65": "navigator.mediaDevices.getUserMediaOnFailure", "63": "navigator.mediaDevices.getDisplayMedia",
    "64": "navigator.mediaDevices.getDisplayMediaOnSuccess", "66": "navigator.mediaDevices.enumerateDevices",
    "67": "navigator.mediaDevices.ondevicechange", "68": "navigator.mediaDevices.getDisplayMediaOnFailure",
    "70": "MediaStreamTrack.stop", "71": "MediaStreamTrack.applyConstraints", "72": "MediaStreamTrack.onended",
    "73": "MediaStreamTrack.onmute", "74": "MediaStreamTrack.onunmute", "80": "HTMLMediaElement.resize",
}

_STATS_TYPES = {
    "1": "inbound-rtp", "2": "outbound-rtp", "3": "remote-inbound-rtp", "4": "remote-outbound-rtp",
    "5": "transport", "6": "candidate-pair", "7": "local-candidate", "8": "remote-candidate",
    "9": "data-channel", "10": "peer-connection", "11": "certificate", "12": "media-source",
    "13": "media-playout", "14": "codec",
}

_PROPERTY_NAMES = (  # noqa: SIM905 - a long table reads better as words
    # code 4 onwards, in table order; `timestamp` is "t" (and collapsed to the top level)
    "payloadType transportId mimeType clockRate channels sdpFmtpLine ssrc kind codecId - packetsReceived "
    "packetsLost jitter trackIdentifier mid remoteId framesDecoded keyFramesDecoded framesDropped frameWidth "
    "frameHeight framesPerSecond qpSum totalDecodeTime totalInterFrameDelay totalSquaredInterFrameDelay "
    "pauseCount totalPausesDuration freezeCount totalFreezesDuration lastPacketReceivedTimestamp "
    "headerBytesReceived packetsDiscarded fecPacketsReceived fecPacketsDiscarded fecBytesReceived fecSsrc "
    "bytesReceived nackCount firCount pliCount totalProcessingDelay estimatedPlayoutTimestamp jitterBufferDelay "
    "jitterBufferTargetDelay jitterBufferEmittedCount jitterBufferMinimumDelay totalSamplesReceived "
    "concealedSamples silentConcealedSamples concealmentEvents insertedSamplesForDeceleration "
    "removedSamplesForAcceleration audioLevel totalAudioEnergy totalSamplesDuration framesReceived "
    "decoderImplementation playoutId powerEfficientDecoder framesAssembledFromMultiplePackets "
    "totalAssemblyTime contentType googTimingFrameInfo retransmittedPacketsReceived retransmittedBytesReceived "
    "rtxSsrc totalCorruptionProbability totalSquaredCorruptionProbability corruptionMeasurements localId "
    "roundTripTime totalRoundTripTime fractionLost roundTripTimeMeasurements packetsSent bytesSent "
    "mediaSourceId rid encodingIndex headerBytesSent retransmittedPacketsSent retransmittedBytesSent "
    "targetBitrate totalEncodedBytesTarget framesSent hugeFramesSent framesEncoded keyFramesEncoded "
    "totalEncodeTime totalPacketSendDelay qualityLimitationReason qualityLimitationDurations "
    "qualityLimitationResolutionChanges encoderImplementation powerEfficientEncoder active scalabilityMode "
    "remoteTimestamp reportsSent echoReturnLoss echoReturnLossEnhancement width height frames "
    "synthesizedSamplesDuration synthesizedSamplesEvents totalPlayoutDelay totalSamplesCount "
    "dataChannelsOpened dataChannelsClosed label protocol dataChannelIdentifier state messagesSent "
    "messagesReceived iceRole iceLocalUsernameFragment dtlsState iceState selectedCandidatePairId "
    "localCertificateId remoteCertificateId tlsVersion dtlsCipher dtlsRole srtpCipher "
    "selectedCandidatePairChanges rtcpTransportStatsId address port candidateType priority url relayProtocol "
    "foundation relatedAddress relatedPort usernameFragment tcpType networkType - - localCandidateId "
    "remoteCandidateId nominated lastPacketSentTimestamp currentRoundTripTime availableOutgoingBitrate "
    "availableIncomingBitrate requestsReceived requestsSent responsesReceived responsesSent consentRequestsSent "
    "packetsDiscardedOnSend bytesDiscardedOnSend - fingerprint fingerprintAlgorithm base64Certificate "
    "issuerCertificateId psnrMeasurements psnrSum packetsReceivedWithEct1 packetsReceivedWithCe "
    "packetsReportedAsLost packetsReportedAsLostButRecovered packetsWithBleachedEct1Marking packetsSentWithEct1 "
    "ccfbMessagesSent ccfbMessagesReceived"
).split()

#: Code (as text) -> property name. Codes 13 (mediaType), 146 (isRemote), 147 (ip) and 162 (writable)
#: are reserved for obsolete stats and never written.
PROPERTIES = {"t": "timestamp"} | {str(code): name for code, name in enumerate(_PROPERTY_NAMES, start=4)
                                   if name != "-"}


def method(code: object) -> str:
    return _METHODS.get(str(code), str(code))


def stats_type(code: object) -> object:
    return _STATS_TYPES.get(str(code), code)


def property_name(code: str) -> str:
    return PROPERTIES.get(code, code)
