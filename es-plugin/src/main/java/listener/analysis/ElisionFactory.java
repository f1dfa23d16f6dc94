package listener.analysis;

import java.util.List;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.util.ElisionFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Strips elided articles: l'entrada → entrada, d'aigua → aigua. */
@NamedComponent("listener_elision")
public final class ElisionFactory implements TokenFilterFactory {
    // The articles CatalanAnalyzer uses; Lucene keeps its own set private.
    static final CharArraySet ARTICLES = CharArraySet.unmodifiableSet(
        new CharArraySet(List.of("d", "l", "m", "n", "s", "t"), true));

    @Override
    public TokenStream create(TokenStream input) {
        return new ElisionFilter(input, ARTICLES);
    }

    @Override
    public TokenStream normalize(TokenStream input) {
        return create(input);
    }
}
