namespace Capa.Engine.Text.Generation;

/// <summary>What the generation loop needs from a tokenizer.</summary>
public interface IGenerationTokenizer
{
    /// <summary>Ids below this exist in the tokenizer; the loop never samples ids at or above it.</summary>
    int VocabSize { get; }

    /// <summary>Encodes text, adding the tokenizer's special prefix/suffix tokens when asked.</summary>
    IReadOnlyList<int> Encode(string text, bool addSpecialTokens);

    /// <summary>Whether a token is special (control); special tokens are not part of generated text.</summary>
    bool IsSpecial(int id);

    /// <summary>The UTF-8 bytes a token stands for (for logprobs' <c>bytes</c>).</summary>
    byte[] GetTokenBytes(int id);

    /// <summary>A fresh incremental decoder for one stream of ids.</summary>
    IStreamingDetokenizer CreateStreamingDetokenizer();
}

/// <summary>Turns ids into text incrementally, never emitting half a UTF-8 character.</summary>
public interface IStreamingDetokenizer
{
    /// <summary>Adds one id and returns the text that became final (possibly empty).</summary>
    string Append(int id);

    /// <summary>Returns whatever text is still pending at the end of the stream.</summary>
    string Flush();
}
