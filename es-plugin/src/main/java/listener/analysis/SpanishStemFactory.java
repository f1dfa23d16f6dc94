package listener.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.es.SpanishLightStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Light Spanish stemming, as SpanishAnalyzer does: películas → pelicul. */
@NamedComponent("listener_stem_es")
public final class SpanishStemFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new SpanishLightStemFilter(input);
    }
}
